"""`pipeline-tui rollback` on real builds: the baseline built and checked, then the incident build
(tests/core/checks/triage_workspaces.py). Expected values are straight SQL on the baseline's own
warehouse file (the state before the incident build) and on the incident's, never the code under test.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "checks"))
from triage_workspaces import CLI, baseline_root, copy_of, incident_root, workspace  # noqa: E402

from tui.core.history import HistoryStore, RunRecord  # noqa: E402

pytestmark = pytest.mark.slow
NUMERIC = ("BIGINT", "INTEGER", "DOUBLE", "HUGEINT", "SMALLINT")


def cli(root: Path, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    return subprocess.run([*CLI, "--workspace", str(root), *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def stats(warehouse: Path) -> dict[str, tuple]:
    """Per mart and dbt_audit table: row count and the sum of every numeric column (straight SQL)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        tables = con.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE "
                             "(schema_name = 'main' AND (table_name LIKE 'fct_%' OR table_name LIKE 'dim_%')) "
                             "OR schema_name = 'dbt_audit' ORDER BY 1, 2").fetchall()
        found = {}
        for schema, table in tables:
            columns = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE schema_name = ? AND "
                                  "table_name = ? ORDER BY column_index", [schema, table]).fetchall()
            # doubles summed in another order differ in the last bits: compare them to 6 decimals
            sums = [f'round(sum("{c}"), 6)' if kind == "DOUBLE" else f'sum("{c}")' for c, kind in columns
                    if kind in NUMERIC or kind.startswith("DECIMAL")]
            found[f"{schema}.{table}"] = con.execute(
                f'SELECT count(*), {", ".join(sums) or "0"} FROM "{schema}"."{table}"').fetchone()
        return found


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def runs(root: Path) -> list[RunRecord]:
    with HistoryStore(root / "history.sqlite") as store:
        return store.recent_runs(50)


@pytest.fixture
def incident_ws() -> Path:
    return copy_of(incident_root(), "rollback")


def test_rollback_after_the_incident_restores_the_baseline_marts_exactly(incident_ws):
    before = stats(baseline_root() / "warehouse.duckdb")  # the earlier state, untouched by the incident build
    incident = stats(incident_root() / "warehouse.duckdb")
    assert incident != before and before["main.fct_company_daily_claims"] != incident["main.fct_company_daily_claims"]

    done = cli(incident_ws, "rollback", "--yes")
    assert done.returncode == 0, done.stderr
    assert stats(incident_ws / "warehouse.duckdb") == before
    baseline_run = runs(baseline_root())[0]
    latest = runs(incident_ws)[0]
    assert (latest.command, latest.status, latest.selector) == ("rollback", "success", baseline_run.run_id)
    with HistoryStore(incident_ws / "history.sqlite") as store:
        restored = {n.name: n.status for n in store.node_results(latest.run_id)}
    assert restored["main.fct_company_daily_claims"] == "restored"
    assert restored["dbt_audit.loaded_files"] == "restored"

    shown = cli(incident_ws, "history")
    assert shown.returncode == 0 and "rollback" in shown.stdout

    # the next build picks up from the restored state: the incremental models load the incident's
    # files again, and the marts come out as the incident build made them from the same raw files
    rebuilt = cli(incident_ws, "build")
    assert rebuilt.returncode == 0, rebuilt.stderr[-2000:]
    assert stats(incident_ws / "warehouse.duckdb") == incident


def test_trends_and_checks_work_after_a_rollback(incident_ws):
    from tui.core.checks.triage import run_checks
    from tui.core.cockpit import store_history
    from tui.core.project import load_project

    assert cli(incident_ws, "rollback", "--yes").returncode == 0
    points, totals = store_history(incident_ws / "history.sqlite")
    assert points(load_project(incident_ws / "target")) and totals()
    findings, ctx = run_checks(workspace(incident_ws), families=["keys"])
    assert ctx.latest_run.command == "rollback"
    project = load_project(incident_ws / "target")
    failed = {f.object for f in findings if f.status == "fail"}
    # the raw feeds still hold the incident's files (a rollback restores the warehouse, not the feeds,
    # and views over them read the feeds as they are); the restored tables have the baseline's keys
    tables = [o for o in failed if project.find(o) is not None and project.find(o).materialized != "view"]
    assert failed and not tables, failed


def test_bad_input_gets_one_line_and_changes_nothing(incident_ws):
    warehouse = incident_ws / "warehouse.duckdb"
    original = digest(warehouse)
    with HistoryStore(incident_ws / "history.sqlite") as store:
        old = store.recent_runs(10)[-1]
        store.write_run(RunRecord("0ld0ld00-run", "build", None, None, old.started_at - 3600, old.started_at - 3500,
                                  "success", None, 100.0, None, False, None, "import"), [])
        store.write_run(RunRecord("fa11ed00-run", "build", None, None, old.started_at - 1800, old.started_at - 1700,
                                  "error", None, 100.0, None, False, "1 failed", "session"), [])
    cases = {("--to", "nosuchrun"): "no run matches", ("--to", "fa11ed"): "ended error",
             ("--to", "0ld0ld"): "older than the retained checkpoints"}
    for args, expected in cases.items():
        done = cli(incident_ws, "rollback", *args, "--yes")
        assert done.returncode == 2, done.stderr
        assert expected in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(60)", str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        done = cli(incident_ws, "rollback", "--yes")
        assert done.returncode == 2 and "locked" in done.stderr and str(holder.pid) in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    finally:
        holder.kill()
        holder.wait()
    assert digest(warehouse) == original
    assert [r.command for r in runs(incident_ws)].count("rollback") == 0


def _padded_checkpoint(root: Path) -> tuple[str, int]:
    """A warehouse big enough (about 300 MB) that a restore takes long enough to be interrupted, its
    checkpoint taken, then a table changed: returns the run id and the changed table's row count."""
    from tui.core import checkpoints

    warehouse = root / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE TABLE main.padding AS SELECT random() AS a, random() AS b, random() AS c, random() AS d "
                    "FROM range(10000000)")
    run_id = runs(root)[0].run_id
    checkpoints.take(workspace(root), run_id)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("DELETE FROM main.fct_claims WHERE claim_id % 2 = 0")
        return run_id, con.execute("SELECT count(*) FROM main.fct_claims").fetchone()[0]


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_rollback_stopped_halfway_leaves_the_warehouse_as_before(incident_ws, how):
    run_id, changed_rows = _padded_checkpoint(incident_ws)
    warehouse = incident_ws / "warehouse.duckdb"
    original = digest(warehouse)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    child = subprocess.Popen([*CLI, "--workspace", str(incident_ws), "rollback", "--to", run_id, "--yes"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not list(incident_ws.glob(".warehouse.duckdb.rollback-*.tmp")):
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the restore never started"
        time.sleep(0.001)
    child.send_signal(how)
    _, err = child.communicate(timeout=60)
    if child.returncode == 0:
        pytest.fail(f"the restore finished before the signal arrived; make the padding bigger ({err})")
    assert digest(warehouse) == original
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM main.fct_claims").fetchone()[0] == changed_rows
    assert runs(incident_ws)[0].status in ("interrupted", "cancelled")
    done = cli(incident_ws, "rollback", "--to", run_id, "--yes")
    assert done.returncode == 0, done.stderr
    assert not list(incident_ws.glob(".warehouse.duckdb.rollback-*.tmp"))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM main.fct_claims").fetchone()[0] > changed_rows
