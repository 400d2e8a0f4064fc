"""The warm dbt session on a tiny throwaway dbt-duckdb project: events, reuse, re-parse, rows, cancel."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time

import pytest

from tiny_dbt import SLOW_SQL, TINY_ROWS, make_tiny_dbt_project
from tui.core.run_events import NodeFinished, NodesPlanned, NodeStarted, RunFinished, RunStarted
from tui.core.dbt_host.session import DbtSession, SessionBusy

READ_ONLY = "import duckdb, sys, json; c = duckdb.connect(sys.argv[1], read_only=True); print(json.dumps(c.execute(sys.argv[2]).fetchall()))"


def query_from_another_process(workspace, sql):
    """Read the warehouse read-only from a separate process: also proves the session released it."""
    out = subprocess.run([sys.executable, "-c", READ_ONLY, str(workspace.warehouse), sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """One session on one tiny project, built once: (session, events of the first build)."""
    from tui.core.workspace import Workspace

    root = tmp_path_factory.mktemp("session")
    workspace = Workspace.resolve(workspace=root / "ws", project_dir=make_tiny_dbt_project(root / "project"))
    session = DbtSession(workspace)
    events = []
    finished = session.invoke("build", on_event=events.append)
    assert finished.status == "success", finished.error
    yield session, events
    session.close()


def test_build_events_come_in_order_with_content(built):
    session, events = built
    kinds = [type(e) for e in events]
    assert kinds[0] is RunStarted and kinds[-1] is RunFinished and kinds.count(RunFinished) == 1
    assert kinds.index(NodesPlanned) < kinds.index(NodeStarted)
    run_id = events[0].run_id
    assert all(e.run_id == run_id for e in events)
    started = {e.unique_id: i for i, e in enumerate(events) if isinstance(e, NodeStarted)}
    finished = {e.unique_id: (i, e) for i, e in enumerate(events) if isinstance(e, NodeFinished)}
    assert started.keys() == finished.keys() and all(started[u] < finished[u][0] for u in started)
    planned = next(e for e in events if isinstance(e, NodesPlanned))
    assert planned.total == len(finished) == 6  # seed, 3 models, 2 tests
    by_name = {e.name: e for _, e in finished.values()}
    assert by_name["raw_items"].rows == TINY_ROWS and by_name["fct_items"].rows == TINY_ROWS
    assert by_name["fct_items_inc"].rows == TINY_ROWS
    assert by_name["stg_items"].rows is None  # views are not counted (it would run their query)
    assert {by_name[n].status for n in ("unique_fct_items_id", "not_null_fct_items_id")} == {"pass"}
    assert by_name["unique_fct_items_id"].failures == 0
    fct = by_name["fct_items"]
    assert fct.resource_type == "model" and fct.execute_s > 0 and fct.est_cost_usd > 0
    assert fct.started_at <= fct.finished_at and fct.thread


def test_build_is_recorded_in_history_and_writes_the_manifest(built):
    session, events = built
    run = session.history.get_run(events[0].run_id)
    assert run.status == "success" and run.command == "build"
    assert {n.name for n in session.history.node_results(run.run_id)} >= {"raw_items", "fct_items"}
    manifest = json.loads(session.workspace.manifest_path.read_text())
    assert "model.tiny.fct_items" in manifest["nodes"]


def test_a_second_invocation_reuses_the_manifest(built):
    session, _ = built
    parses, manifest = session.parse_count, session.manifest
    finished = session.invoke("build", select="fct_items")
    assert finished.status == "success"
    assert session.parse_count == parses and session.manifest is manifest


def test_the_warehouse_is_free_between_invocations(built):
    session, _ = built
    session.invoke("run", select="fct_items")
    assert query_from_another_process(session.workspace, "select count(*) from fct_items") == [[TINY_ROWS]]


def test_an_edited_model_is_rebuilt_from_its_new_sql(built):
    session, _ = built
    model = session.workspace.project_dir / "models" / "marts" / "fct_items.sql"
    original = model.read_text()
    try:
        model.write_text(original.replace("price * 2 as price2", "price * 10 as price2"))
        assert session.invoke("run", select="fct_items").status == "success"
        assert query_from_another_process(session.workspace, "select sum(price2) from fct_items") == [[170]]
    finally:
        model.write_text(original)
    assert session.invoke("run", select="fct_items").status == "success"
    assert query_from_another_process(session.workspace, "select sum(price2) from fct_items") == [[34]]


def test_changed_vars_reparse(built):
    session, _ = built
    parses = session.parse_count
    session.invoke("run", select="fct_items", vars={"anything": 1})
    assert session.parse_count == parses + 1


def test_unknown_selector_is_a_one_line_error(built):
    session, _ = built
    finished = session.invoke("build", select="no_such_model")
    assert finished.status == "error" and "no_such_model" in finished.error and "\n" not in finished.error


def test_a_failing_test_fails_the_run(built):
    session, _ = built
    seed = session.workspace.project_dir / "seeds" / "raw_items.csv"
    original = seed.read_text()
    try:
        seed.write_text(original + "4,fig2,9\n")  # duplicate id
        events = []
        finished = session.invoke("build", on_event=events.append)
    finally:
        seed.write_text(original)
        session.invoke("build")
    assert finished.status == "error" and finished.failed == 1
    failed = [e for e in events if isinstance(e, NodeFinished) and e.status == "fail"]
    assert [(e.name, e.failures) for e in failed] == [("unique_fct_items_id", 1)]


def test_cancel_stops_a_running_build_and_a_second_request_is_refused(tiny_workspace):
    (tiny_workspace.project_dir / "models" / "marts" / "slow.sql").write_text(SLOW_SQL)
    session = DbtSession(tiny_workspace)
    started = threading.Event()
    events = []

    def on_event(event):
        events.append(event)
        if isinstance(event, NodeStarted) and event.name == "slow":
            started.set()

    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("f", session.invoke("run", on_event=on_event)))
    runner.start()
    assert started.wait(60)
    with pytest.raises(SessionBusy):
        session.invoke("run", select="fct_items")
    time.sleep(0.3)
    asked = time.monotonic()
    assert session.cancel()
    runner.join(30)
    assert not runner.is_alive() and time.monotonic() - asked < 5
    assert result["f"].status == "cancelled"
    slow = [e for e in events if isinstance(e, NodeFinished) and e.name == "slow"]
    assert slow and slow[0].status == "cancelled"
    again = session.invoke("build", exclude="slow")
    assert again.status == "success", again.error  # usable again
    session.close()


def test_a_warm_rebuild_reuses_the_linked_graph_and_a_new_model_is_built(built):
    session, _ = built
    session.invoke("build", select="fct_items")
    graph_file = session.workspace.target_path / "graph_summary.json"  # written when dbt links the graph
    linked = graph_file.stat().st_mtime_ns
    assert session.invoke("build", select="fct_items").status == "success"
    assert graph_file.stat().st_mtime_ns == linked  # same manifest: dbt's graph was not linked again
    model = session.workspace.project_dir / "models" / "marts" / "fct_cheap.sql"
    try:
        model.write_text("{{ config(materialized='table') }}\nselect id from {{ ref('fct_items') }} where price2 < 10")
        finished = session.invoke("build", select="fct_cheap")
        assert finished.status == "success", finished.error
        assert graph_file.stat().st_mtime_ns != linked  # a new manifest: linked anew, with the new node
        seed = (session.workspace.project_dir / "seeds" / "raw_items.csv").read_text().splitlines()[1:]
        cheap = sum(int(line.split(",")[2]) * 2 < 10 for line in seed)
        assert query_from_another_process(session.workspace, "select count(*) from fct_cheap") == [[cheap]]
    finally:
        model.unlink()
    assert session.invoke("build", select="fct_items").status == "success"


def test_the_dbt_log_keeps_info_lines_and_no_debug_lines(built):
    session, _ = built
    log = session.workspace.log_path / "dbt.log"
    before = log.stat().st_size
    assert session.invoke("build", select="fct_items").status == "success"
    with log.open(encoding="utf-8") as handle:
        handle.seek(before)
        lines = handle.read().splitlines()
    levels = {m[1] for m in map(re.compile(r"^\x1b\[0m[\d:.]+ \[(\w+)\s*\]").match, lines) if m}
    assert levels == {"info"}  # what --log-level-file info always wrote: no debug line
    assert any("OK created sql table model main.fct_items" in line for line in lines)
    assert any("PASS unique_fct_items_id" in line for line in lines)


def test_feed_contract_warnings_follow_the_feeds(tmp_path):
    from tui.core.dbt_host.feed_warnings import FeedContractWarnings

    manifest, raw = tmp_path / "manifest.json", tmp_path / "raw"
    raw.mkdir()
    manifest.write_text(json.dumps({"sources": {"source.p.raw.items": {
        "source_name": "raw", "name": "items", "meta": {"external_location": "read_csv('items.csv')"},
        "columns": {"id": {}, "name": {}}}}}))
    feed = raw / "items.csv"
    feed.write_text("id,name\n1,a\n")
    warnings = FeedContractWarnings(manifest, raw)
    assert warnings.lines() == []
    feed.write_text("id,title\n1,a\n")
    [line] = warnings.lines()
    assert "items.csv" in line and "'name'" in line
    assert warnings.lines() == [line]
    feed.write_text("id,name\n1,a\n")
    assert warnings.lines() == []


def test_a_cancel_before_dbt_starts_runs_no_node(tiny_workspace):
    session = DbtSession(tiny_workspace)
    events, result = [], {}
    runner = threading.Thread(target=lambda: result.setdefault("f", session.invoke("build", on_event=events.append)))
    runner.start()
    while not session.busy and runner.is_alive():
        time.sleep(0.001)
    session.cancel()  # lands during the import and parse (seconds), before dbt runs the build
    runner.join(120)
    assert result["f"].status == "cancelled"
    assert not [e for e in events if isinstance(e, (NodeStarted, NodeFinished))]
    again = session.invoke("build")
    assert again.status == "success", again.error
    assert query_from_another_process(tiny_workspace, "select count(*) from fct_items") == [[TINY_ROWS]]
    session.close()


def test_after_a_cancel_no_node_or_query_starts_and_the_warehouse_is_free(tiny_workspace):
    (tiny_workspace.project_dir / "models" / "marts" / "slow.sql").write_text(SLOW_SQL)
    (tiny_workspace.project_dir / "models" / "marts" / "after_slow.sql").write_text(
        "{{ config(materialized='table') }}\nselect * from {{ ref('slow') }}")
    session = DbtSession(tiny_workspace)
    assert session.invoke("build", exclude="slow after_slow").status == "success"
    started, events, result = threading.Event(), [], {}

    def on_event(event):
        events.append((time.time(), event))
        if isinstance(event, NodeStarted) and event.name == "slow":
            started.set()

    runner = threading.Thread(target=lambda: result.setdefault("f", session.invoke("build", on_event=on_event)))
    runner.start()
    assert started.wait(60)
    asked = time.time()
    session.cancel()
    runner.join(30)
    assert result["f"].status == "cancelled"
    late = [e.name for _, e in events if isinstance(e, NodeStarted) and e.started_at > asked]
    assert late == []
    names = {row[0] for row in query_from_another_process(tiny_workspace, "select table_name from information_schema.tables")}
    assert "slow" not in names and "after_slow" not in names and "fct_items" in names
    assert not [n for n in names if n.endswith(("__dbt_tmp", "__dbt_backup"))]
    session.close()
