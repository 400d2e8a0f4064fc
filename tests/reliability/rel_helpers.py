"""Helpers for the reliability tests: workspace copies, the CLI as a subprocess, warehouse facts.

Every fact about the warehouse is read read-only from a separate connection that is closed at
once, so the helpers never hold the file while the code under test runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import duckdb

from tui.core.workspace import Workspace

CLI = [sys.executable, "-c", "from tui.cli import main; main()"]
LEFTOVER_MARKS = ("__dbt_tmp", "__dbt_backup")


def copy_workspace(source: Workspace, dest: Path, *, with_project: bool = False) -> Workspace:
    """A private copy of a workspace (and of its dbt project when the test edits it)."""
    shutil.copytree(source.root, dest / "ws", ignore=shutil.ignore_patterns("*.wal", "triage"))
    if not with_project:
        return Workspace.resolve(workspace=dest / "ws")
    shutil.copytree(source.project_dir, dest / "project", ignore=shutil.ignore_patterns("target", "logs", "raw",
                                                                                          "*.duckdb"))
    return Workspace.resolve(workspace=dest / "ws", project_dir=dest / "project", profiles_dir=dest / "project")


def cli_env(**extra: str) -> dict[str, str]:
    return {**os.environ, "DO_NOT_TRACK": "1", "COLUMNS": "200", **extra}


def cli(workspace: Workspace, *args, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """`pipeline-tui --workspace ... [--project-dir ...] ARGS` in a subprocess."""
    return subprocess.run([*CLI, *workspace_args(workspace), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=env or cli_env())


def invoke(workspace: Workspace, *args, env: dict | None = None, profiles: bool = True) -> SimpleNamespace:
    """The same command in this process (no interpreter start or dbt import: seconds saved per call)."""
    from typer.testing import CliRunner

    from tui.cli import app

    result = CliRunner().invoke(app, [*workspace_args(workspace, profiles), *map(str, args)], env=env)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return SimpleNamespace(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)


def workspace_args(workspace: Workspace, profiles: bool = True) -> list[str]:
    args = ["--workspace", str(workspace.root)]
    if not workspace.embedded:
        args += ["--project-dir", str(workspace.project_dir)]
        args += ["--profiles-dir", str(workspace.profiles_dir)] if profiles else []
    return args


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


def connect(workspace: Workspace):
    # these projects' profiles point at PIPELINE_TUI_WAREHOUSE; a test that breaks the profile still
    # checks the file the builds wrote
    con = duckdb.connect(str(workspace.warehouse or workspace.demo_warehouse), read_only=True)
    con.execute("SET enable_progress_bar = false")
    con.execute(f"SET file_search_path = '{workspace.raw_dir}'")  # the base_* views read raw files
    return con


def relations(workspace: Workspace) -> dict[str, str]:
    """name -> 'BASE TABLE' or 'VIEW' for every relation in the warehouse's main schema."""
    with connect(workspace) as con:
        rows = con.execute("select table_name, table_type from information_schema.tables "
                           "where table_schema = 'main'").fetchall()
    return dict(rows)


def relation_counts(workspace: Workspace) -> dict[str, int]:
    """Row count of every table and view (a half-written table shows as a different count)."""
    with connect(workspace) as con:
        names = [r[0] for r in con.execute("select table_name from information_schema.tables "
                                           "where table_schema = 'main'").fetchall()]
        return {name: con.execute(f'select count(*) from "{name}"').fetchone()[0] for name in names}


def leftovers(workspace: Workspace) -> list[str]:
    return sorted(name for name in relations(workspace) if any(mark in name for mark in LEFTOVER_MARKS))


def history_runs(workspace: Workspace):
    """Every run in the workspace's history (opening the store also marks dead runs interrupted)."""
    from tui.core.history import HistoryStore

    with HistoryStore(workspace.history_path) as store:
        return store.recent_runs(1000)


def wait_until(condition, timeout: float, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(step)
    return True


def open_fds_to(pid: int, path: Path) -> list[str]:
    """The file descriptors of a process that point at `path` (or its WAL)."""
    found = []
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir() if fd_dir.is_dir() else []:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith(str(path)):
            found.append(target)
    return found


async def wait_for(pilot, condition, timeout: float = 120) -> None:
    """Let the app run until `condition()` holds (no fixed sleeps)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)
