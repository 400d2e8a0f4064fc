"""Checkpoints on a real DuckDB file and a real history store: which runs get one, and retention
(the newest good runs, plus the newest run not checked yet)."""

from __future__ import annotations

import duckdb
import pytest

from tui.core import checkpoints
from tui.core.history import HistoryStore, RunRecord
from tui.core.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    workspace = Workspace.resolve(workspace=tmp_path / "ws").ensure_dirs()
    with duckdb.connect(str(workspace.warehouse)) as con:
        con.execute("CREATE TABLE t AS SELECT range AS i FROM range(1000)")
    return workspace


def _run(store: HistoryStore, run_id: str, started: float) -> None:
    store.write_run(RunRecord(run_id, "build", None, None, started, started + 1, "success", None, 1.0, None, False,
                              None, "session"), [])


def test_retention_keeps_the_last_good_run_and_the_newest_unchecked(ws, monkeypatch):
    monkeypatch.delenv(checkpoints.KEEP_ENV, raising=False)
    with HistoryStore(ws.history_path) as store:
        for index, run_id in enumerate(["good-old", "good", "bad", "unchecked"]):
            _run(store, run_id, 1000.0 + index)
            checkpoints.take(ws, run_id)
        for run_id, worst in (("good-old", "pass"), ("good", "warn"), ("bad", "fail")):
            store.put_profile("triage", {"worst": worst}, run_id=run_id, kind="facts")
    kept = checkpoints.prune(ws)
    assert [c.run_id for c in kept] == ["good", "unchecked"]
    assert sorted(p.name for p in checkpoints.folder(ws).iterdir()) == [
        "good.duckdb", "good.json", "unchecked.duckdb", "unchecked.json"]
    with duckdb.connect(str(kept[0].path), read_only=True) as con:
        assert con.execute("SELECT count(*), sum(i) FROM t").fetchone() == (1000, sum(range(1000)))
    monkeypatch.setenv(checkpoints.KEEP_ENV, "0")
    assert checkpoints.prune(ws) == [] and not list(checkpoints.folder(ws).iterdir())


@pytest.mark.parametrize("setting, command, partial, expected", [
    ("", "build", False, True), ("", "build", True, False), ("all", "run", True, True),
    ("off", "build", False, False), ("", "test", False, False), ("", "source freshness", False, False),
])
def test_which_runs_get_a_checkpoint(monkeypatch, setting, command, partial, expected):
    monkeypatch.delenv(checkpoints.KEEP_ENV, raising=False)
    monkeypatch.setenv(checkpoints.WHEN_ENV, setting)
    assert checkpoints.wanted(command, partial) is expected


def test_a_locked_warehouse_is_one_line(ws):
    import subprocess
    import sys

    holder = subprocess.Popen([sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
                               "print('held', flush=True); time.sleep(60)", str(ws.warehouse)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(checkpoints.CheckpointError, match=f"locked by another process \\(PID {holder.pid}\\)"):
            checkpoints.take(ws, "r1")
    finally:
        holder.kill()
        holder.wait()
    assert not list(checkpoints.folder(ws).glob("r1*"))
