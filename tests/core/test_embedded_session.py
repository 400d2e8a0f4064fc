"""The warm session on the real embedded project (a copy in a tmp dir, tiny generated data).

Expected row counts come from straight SQL over the raw feeds, independent of the models.
"""

from __future__ import annotations

import shutil
import threading

import duckdb
import pytest

from tui.core.run_events import NodeFinished, NodesPlanned, NodeStarted, RunFinished, RunStarted
from tui.core.history import HistoryStore
from tui.core.dbt_host.session import DbtSession
from tui.core.warehouse import query
from tui.core.workspace import Workspace, embedded_project_dir

IGNORE = shutil.ignore_patterns("target", "logs", "raw", "*.duckdb", "*.duckdb.wal")


def raw_count(workspace: Workspace, where: str = "true") -> int:
    sql = f"select count(distinct plan_id) from read_json_auto(?) where {where}"
    return duckdb.connect().execute(sql, [str(workspace.raw_dir / "plans.json")]).fetchone()[0]


@pytest.fixture(scope="module")
def session(built_workspace, tmp_path_factory):
    """A session on a copy of the embedded project, its raw data and its built warehouse."""
    root = tmp_path_factory.mktemp("embedded")
    project = root / "project"
    shutil.copytree(embedded_project_dir(), project, ignore=IGNORE)
    workspace = Workspace.resolve(workspace=root / "ws", project_dir=project, profiles_dir=project).ensure_dirs()
    shutil.copytree(built_workspace.raw_dir, workspace.raw_dir, dirs_exist_ok=True)
    shutil.copy(built_workspace.warehouse, workspace.warehouse)
    session = DbtSession(workspace)
    yield session
    session.close()


def test_built_workspace_has_a_recorded_successful_build(built_workspace):
    with HistoryStore(built_workspace.history_path) as store:
        [run] = [r for r in store.recent_runs() if r.command == "build"]
        nodes = {n.name: n for n in store.node_results(run.run_id)}
    assert run.status == "success" and run.est_cost_usd > 0
    fct_claims = query(built_workspace.warehouse, "select count(*) from fct_claims")[1][0][0]
    assert nodes["fct_claims"].rows == fct_claims > 0
    assert nodes["dim_plans"].rows == raw_count(built_workspace)


def test_rebuild_of_one_model_streams_ordered_events_with_rows(session):
    events = []
    finished = session.invoke("build", select="dim_plans", on_event=events.append)
    assert finished.status == "success", finished.error
    assert isinstance(events[0], RunStarted) and events[-1] is finished
    planned = [e.total for e in events if isinstance(e, NodesPlanned)][-1]
    done = [e for e in events if isinstance(e, NodeFinished)]
    assert len(done) == planned and {e.resource_type for e in done} == {"model", "test"}
    order = [(type(e).__name__, e.name) for e in events if isinstance(e, (NodeStarted, NodeFinished))]
    assert order.index(("NodeStarted", "dim_plans")) < order.index(("NodeFinished", "dim_plans"))
    model = next(e for e in done if e.name == "dim_plans")
    assert model.rows == raw_count(session.workspace) and model.est_cost_usd is not None
    assert all(e.status == "pass" for e in done if e.resource_type == "test")


def test_row_counts_run_on_the_event_thread_not_on_dbts_node_threads(session, monkeypatch):
    count_threads = []
    real_count = session.host.count_rows

    def counting_on(relation):
        count_threads.append(threading.current_thread().name)
        return real_count(relation)

    monkeypatch.setattr(session.host, "count_rows", counting_on)
    events = []
    assert session.invoke("run", select="dim_plans", on_event=events.append).status == "success"
    [rows] = [e.rows for e in events if isinstance(e, NodeFinished)]
    assert rows == raw_count(session.workspace) and count_threads == ["pipeline-tui-events"]


def test_the_second_invocation_reuses_the_manifest_and_an_edit_is_used(session):
    session.invoke("build", select="dim_plans")
    parses, manifest = session.parse_count, session.manifest
    assert session.invoke("run", select="dim_plans").status == "success"
    assert (session.parse_count, session.manifest) == (parses, manifest)
    model = session.workspace.project_dir / "models" / "marts" / "dim_plans.sql"
    model.write_text(model.read_text().replace("    from plans\n", "    from plans\n    where plan_type = 'HMO'\n"))
    events = []
    assert session.invoke("run", select="dim_plans", on_event=events.append).status == "success"
    assert session.parse_count == parses + 1
    [rows] = [e.rows for e in events if isinstance(e, NodeFinished)]
    assert rows == raw_count(session.workspace, "plan_type = 'HMO'") < raw_count(session.workspace)
    assert query(session.workspace.warehouse, "select count(*) from dim_plans")[1] == [(rows,)]
    assert isinstance(events[-1], RunFinished)
