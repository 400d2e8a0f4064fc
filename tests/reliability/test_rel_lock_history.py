"""A warehouse locked by another process, the TUI next to a headless build, and a broken run history.

Done for real: another process holds the DuckDB file; a headless `pipeline-tui build` runs while the
cockpit builds; the history file is replaced by garbage or by another application's database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from rel_helpers import (CLI, error_lines, history_runs, invoke, open_fds_to, relation_counts, wait_for,
                         wait_until, workspace_args)
from tiny_dbt import SLOWISH_SQL, TINY_ROWS, make_tiny_dbt_project
from tui.core.workspace import Workspace
from tui.launch import build_app
from tui.widgets.error_bar import ErrorBar

HOLD = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(120)"


@pytest.fixture(scope="module")
def tiny_ws(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("rel_lock")
    project = make_tiny_dbt_project(root / "project", {"models/marts/slowish.sql": SLOWISH_SQL})
    workspace = Workspace.resolve(workspace=root / "ws", project_dir=project, profiles_dir=project)
    assert invoke(workspace, "build").returncode == 0
    return workspace


def hold_warehouse(workspace: Workspace) -> subprocess.Popen:
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(workspace.warehouse)], stdout=subprocess.PIPE,
                              text=True)
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_locked_warehouse_is_one_line_with_the_pid_and_a_retry_works(tiny_ws):
    holder = hold_warehouse(tiny_ws)
    try:
        done = invoke(tiny_ws, "build")
        history = invoke(tiny_ws, "history")  # the run history is not the warehouse: still readable
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 2, done.stderr
    [line] = error_lines(done.stderr)
    assert f"warehouse is locked by another process (PID {holder.pid})" in line and "retry" in line
    assert "Traceback" not in done.stderr and history.returncode == 0
    latest = history_runs(tiny_ws)[0]
    assert latest.status == "error" and f"PID {holder.pid}" in latest.error
    assert invoke(tiny_ws, "build").returncode == 0  # the retry, once the other process is gone
    assert relation_counts(tiny_ws)["fct_items"] == TINY_ROWS


async def test_the_cockpit_next_to_a_headless_build_and_never_holding_the_warehouse_when_idle(tiny_ws):
    app = build_app(tiny_ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.bridge.ready, 180)
        headless = subprocess.Popen([*CLI, *workspace_args(tiny_ws), "build"], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True)
        assert wait_until(lambda: open_fds_to(headless.pid, tiny_ws.warehouse), 120)  # it holds the file now
        await pilot.press("b")
        await wait_for(pilot, lambda: app.last_error is not None, 120)
        assert f"warehouse is locked by another process (PID {headless.pid})" in app.last_error
        await wait_for(pilot, lambda: "locked" in str(app.screen.query_one(ErrorBar).render()), 10)  # the panel
        out, err = headless.communicate(timeout=180)
        assert headless.returncode == 0, err
        await pilot.press("b")  # the retry
        await wait_for(pilot, lambda: not app.bridge.busy and app.header_info.last_run_status == "ok", 180)
        child = app.bridge.client._process.pid
        for pid in (child, os.getpid()):
            assert open_fds_to(pid, tiny_ws.warehouse) == []  # idle: nobody here holds the warehouse
        holder = hold_warehouse(tiny_ws)  # so another process can take it read-write
        holder.kill()
        holder.wait()
    runs = history_runs(tiny_ws)[:3]
    assert [r.status for r in runs] == ["success", "error", "success"]  # app retry, app locked, headless
    with sqlite3.connect(tiny_ws.history_path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("content", ["garbage", "foreign"])
def test_a_broken_or_foreign_history_is_moved_aside_with_a_message(tiny_ws, tmp_path, content):
    ws = Workspace.resolve(workspace=tmp_path / "ws", project_dir=tiny_ws.project_dir,
                           profiles_dir=tiny_ws.profiles_dir)
    shutil.copytree(tiny_ws.root, ws.root)
    for suffix in ("", "-wal", "-shm"):
        ws.history_path.with_name(ws.history_path.name + suffix).unlink(missing_ok=True)
    if content == "garbage":
        ws.history_path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 40)
    else:
        with sqlite3.connect(ws.history_path) as con:
            con.execute("create table runs (anything text)")
    done = invoke(ws, "build", "-s", "fct_items")
    assert done.returncode == 0, done.stderr
    [warning] = [ln for ln in done.stderr.splitlines() if ln.startswith("warning: run history")]
    assert "moved aside to history.sqlite.broken-" in warning
    aside = list(ws.root.glob("history.sqlite.broken-*"))
    assert len(aside) == 1 and aside[0].name in warning
    [run] = history_runs(ws)  # a new history, with this run in it
    assert run.status == "success" and run.selector == "fct_items"


async def test_the_cockpit_says_so_when_it_moved_a_broken_history_aside(tiny_ws, tmp_path):
    ws = Workspace.resolve(workspace=tmp_path / "ws", project_dir=tiny_ws.project_dir,
                           profiles_dir=tiny_ws.profiles_dir)
    shutil.copytree(tiny_ws.root, ws.root)
    ws.history_path.write_bytes(b"not a database at all" * 100)
    app = build_app(ws)
    app.bridge = None  # no dbt needed to show the notice
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert any("moved aside" in n.message for n in app._notifications)
    assert list(ws.root.glob("history.sqlite.broken-*"))
