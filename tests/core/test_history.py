"""The run history store: writes, queries, concurrency across processes, recovery, import."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from tui.core.run_events import NodeFinished, RunFinished, RunStarted
from tui.core.history import HistoryRecorder, HistoryStore
from tui.core.history_import import RunResultsError, import_run_results


def record_run(store, run_id, started, durations, status="success"):
    """Write one run through the recorder, as a session would: returns the events it fed."""
    recorder = HistoryRecorder(store, git_rev="abc123")
    events = [RunStarted(run_id, "build", "a+", "dev", started)]
    clock = started
    for name, seconds in durations.items():
        events.append(NodeFinished(run_id, f"model.p.{name}", name, "model", "success", clock, clock + seconds,
                                   0.01, seconds - 0.01, "Thread-1", None, 10, None, seconds * 2 / 3600))
        clock += seconds
    events.append(RunFinished(run_id, status, clock, clock - started))
    for event in events:
        recorder(event)
    assert recorder.error is None
    return events


def test_a_recorded_run_reads_back_with_its_nodes(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite")
    record_run(store, "r1", 1000.0, {"a": 0.5, "b": 1.5})
    [run] = store.recent_runs()
    assert (run.run_id, run.command, run.selector, run.target, run.status, run.git_rev) == \
        ("r1", "build", "a+", "dev", "success", "abc123")
    assert run.elapsed_s == pytest.approx(2.0)
    assert run.est_cost_usd == pytest.approx(2.0 * 2 / 3600)
    nodes = {n.name: n for n in store.node_results("r1")}
    assert nodes["b"].duration_s == pytest.approx(1.5)
    assert nodes["b"].rows == 10 and nodes["b"].thread == "Thread-1"


def test_medians_and_regressions_compare_a_node_with_its_own_past(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite")
    for i, seconds in enumerate([1.0, 1.2, 0.8, 1.1]):
        record_run(store, f"r{i}", 1000.0 + i * 100, {"a": seconds, "b": 0.2})
    record_run(store, "slow", 2000.0, {"a": 3.3, "b": 0.21})
    assert store.medians(exclude_run="slow")["model.p.a"] == pytest.approx(1.05)
    [regression] = store.regressions()
    assert regression.name == "a" and regression.ratio == pytest.approx(3.3 / 1.05)
    history = store.node_history(["model.p.a"], last=3)
    assert [r.run_id for r in history["model.p.a"]] == ["r2", "r3", "slow"]


def test_runs_left_running_by_a_dead_process_become_interrupted(tmp_path):
    path = tmp_path / "h.sqlite"
    script = textwrap.dedent(f"""
        from tui.core.history import HistoryStore
        from tui.core.run_events import RunStarted
        HistoryStore({str(path)!r}).start_run(RunStarted("ghost", "build", None, None, 1.0))
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    assert HistoryStore(path).get_run("ghost").status == "interrupted"


def test_a_running_run_of_a_live_process_stays_running(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite")
    store.start_run(RunStarted("mine", "build", None, None, 1.0))
    assert HistoryStore(tmp_path / "h.sqlite").get_run("mine").status == "running"


@pytest.mark.parametrize("content", [b"this is not sqlite at all" * 100, "foreign"])
def test_a_corrupt_or_foreign_file_is_moved_aside(tmp_path, content):
    path = tmp_path / "h.sqlite"
    if content == "foreign":
        conn = sqlite3.connect(path)
        conn.execute("create table something_else (x)")
        conn.commit()
        conn.close()
    else:
        path.write_bytes(content)
    store = HistoryStore(path)
    assert store.moved_aside is not None and store.moved_aside.exists()
    record_run(store, "r1", 1.0, {"a": 0.1})
    assert [r.run_id for r in store.recent_runs()] == ["r1"]


def test_profiles_keep_json_payloads(tmp_path):
    store = HistoryStore(tmp_path / "h.sqlite")
    store.put_profile("main.fct_claims", {"rows": 5, "nulls": {"amount": 0}}, run_id="r1")
    store.put_profile("main.fct_claims", {"rows": 7}, kind="finding")
    assert [p.payload for p in store.profiles("main.fct_claims")] == [{"rows": 7}, {"rows": 5, "nulls": {"amount": 0}}]
    assert [p.kind for p in store.profiles(kind="finding")] == ["finding"]


WRITER = textwrap.dedent("""
    import sys
    from tui.core.history import HistoryStore, HistoryRecorder
    from tui.core.run_events import RunStarted, NodeFinished, RunFinished
    path, tag, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = HistoryStore(path)
    for i in range(runs):
        record = HistoryRecorder(store)
        rid = f"{tag}-{i}"
        record(RunStarted(rid, "build", None, None, float(i)))
        for n in range(5):
            record(NodeFinished(rid, f"model.p.m{n}", f"m{n}", "model", "success", float(i), i + 0.1, 0.0, 0.1))
        record(RunFinished(rid, "success", i + 1.0, 1.0))
        assert record.error is None, record.error
        store.recent_runs(5)
""")


def test_two_processes_writing_at_once_keep_every_record(tmp_path):
    path = tmp_path / "h.sqlite"
    HistoryStore(path).close()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), tag, "150"]) for tag in ("tui", "cli")]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    conn = sqlite3.connect(path)
    assert conn.execute("select count(*), count(distinct id) from runs where status = 'success'").fetchone() == (300, 300)
    assert conn.execute("select count(*) from node_results").fetchone() == (1500,)
    assert conn.execute("pragma integrity_check").fetchone() == ("ok",)


def test_import_of_run_results_json(tmp_path):
    results = {
        "metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/run-results/v6.json",
                     "generated_at": "2026-01-01T00:00:10Z", "invocation_id": "inv-1",
                     "invocation_started_at": "2026-01-01T00:00:00Z"},
        "elapsed_time": 10.0,
        "args": {"which": "build", "select": ["stg_a+"], "target": "ci"},
        "results": [
            {"unique_id": "seed.p.raw", "status": "success", "thread_id": "Thread-1", "execution_time": 1.0,
             "timing": [{"name": "compile", "started_at": "2026-01-01T00:00:01Z", "completed_at": "2026-01-01T00:00:01Z"},
                        {"name": "execute", "started_at": "2026-01-01T00:00:01Z", "completed_at": "2026-01-01T00:00:02Z"}],
             "adapter_response": {"rows_affected": 3}, "message": "INSERT 3", "failures": None},
            {"unique_id": "test.p.not_null_a_id.abc", "status": "fail", "thread_id": "Thread-2",
             "execution_time": 0.5, "timing": [], "adapter_response": {}, "message": "Got 2 results", "failures": 2},
        ],
    }
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps(results))
    store = HistoryStore(tmp_path / "h.sqlite")
    run, count = import_run_results(store, path, rate=3600.0)  # $1 per second makes the estimate readable
    assert (run.run_id, run.command, run.selector, run.target, run.status, count) == \
        ("inv-1", "build", "stg_a+", "ci", "error", 2)
    import_run_results(store, path, rate=3600.0)  # a second import replaces, never duplicates
    nodes = {n.name: n for n in store.node_results("inv-1")}
    assert len(store.recent_runs()) == 1 and set(nodes) == {"raw", "not_null_a_id"}
    assert (nodes["raw"].rows, nodes["raw"].execute_s, nodes["raw"].est_cost_usd) == (3, 1.0, 1.0)
    assert (nodes["not_null_a_id"].status, nodes["not_null_a_id"].failures) == ("fail", 2)


def test_import_refuses_a_file_that_is_not_run_results(tmp_path):
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}}))
    with pytest.raises(RunResultsError, match="not a dbt run_results.json"):
        import_run_results(HistoryStore(tmp_path / "h.sqlite"), path)
    with pytest.raises(RunResultsError, match="does not exist"):
        import_run_results(HistoryStore(tmp_path / "h.sqlite"), tmp_path / "missing.json")
    assert os.path.exists(tmp_path / "h.sqlite")
