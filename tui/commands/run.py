"""Headless dbt commands: `build`, `run`, `test`, `seed`, `snapshot`, `freshness`.

Each runs one invocation through a `DbtSession` in this process, prints a line per finished node
(status, duration, change against the node's median in history, rows, est. cost), records the
run in history, and exits 0 (success), 1 (a model, test or freshness check failed on the data), 2
(bad input: missing project or profile, unknown selector, compilation or SQL error in a model,
missing or unreadable raw file, locked warehouse) or 130 (cancelled with
Ctrl+C, which stops dbt cleanly). `build` on the embedded project with no data first generates
and builds the demo dataset.
"""

from __future__ import annotations

import faulthandler
import os
import threading
import time
from typing import Annotated, Any, Optional

import typer
import yaml

from tui.commands.output import (EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, EXIT_USAGE, ProgressPrinter, diag,
                                 fail)
from tui.core import errors
from tui.core.run_events import RunFinished
from tui.core.workspace import Workspace

CANCEL_GRACE_S = 10.0

app = typer.Typer()

Select = Annotated[Optional[list[str]], typer.Option("--select", "-s", help="dbt node selection (repeatable), e.g. stg_claims+ or tag:marts.")]
Exclude = Annotated[Optional[list[str]], typer.Option("--exclude", help="dbt nodes to leave out (repeatable).")]
FullRefresh = Annotated[bool, typer.Option("--full-refresh", help="Rebuild incremental models and seeds from scratch.")]
Vars = Annotated[Optional[str], typer.Option("--vars", help="dbt vars as YAML or JSON, e.g. '{raw_dir: /data}'.")]
Rate = Annotated[Optional[float], typer.Option("--cost-per-hour", help="USD per hour for the est. cost (default: $2.00, a small cloud warehouse; env PIPELINE_TUI_COST_PER_HOUR).")]
CountViews = Annotated[bool, typer.Option("--count-views", help="Also count the rows of views (runs each view's query once more).")]


def _workspace(ctx: typer.Context) -> Workspace:
    workspace = ctx.obj
    if not isinstance(workspace, Workspace):
        fail("no workspace resolved (internal): run through the pipeline-tui command")
    return workspace


def _vars(raw: str | None) -> dict | None:
    if not raw:
        return None
    try:
        parsed = yaml.safe_load(raw)
    except yaml.YAMLError:
        parsed = None
    if not isinstance(parsed, dict):
        fail(f"--vars must be a YAML or JSON mapping, got {raw!r}")
    return parsed


def exit_code(finished: RunFinished) -> int:
    if finished.status == "success":
        return EXIT_OK
    if finished.status == "cancelled":
        return EXIT_CANCELLED
    if finished.failed and not errors.is_input_error(finished.error):
        return EXIT_FAILED
    return EXIT_USAGE  # could not run, or a model failed on a broken project or raw file


def run_headless(ctx: typer.Context, command: str, select: list[str] | None = None, exclude: list[str] | None = None,
                 full_refresh: bool = False, vars: str | None = None, rate: float | None = None,
                 count_views: bool = False) -> None:
    """Run one command with live progress and exit with its code (see the module docstring)."""
    from tui.core.dbt_host.session import DbtSession, SessionError

    workspace = _workspace(ctx)
    parsed_vars = _vars(vars)
    session = DbtSession(workspace, cost_per_hour=rate, count_views=count_views, write_artifacts=True)
    try:
        if command == "build":
            _first_start(workspace)
        medians = session.history.medians() if session.history is not None else {}
        finished = _invoke_interruptibly(session, dict(
            command=command, select=" ".join(select or []) or None, exclude=" ".join(exclude or []) or None,
            full_refresh=full_refresh, vars=parsed_vars, on_event=ProgressPrinter(medians)))
    except SessionError as error:
        fail(str(error))
    finally:
        session.close()
    raise typer.Exit(exit_code(finished))


def _first_start(workspace: Workspace) -> None:
    """The embedded project with no data or no warehouse: generate the demo feeds when there are none
    (the build that follows builds the warehouse)."""
    from tui.core.workspace import ensure_demo_data

    if ensure_demo_data(workspace, lambda message, fraction=None: diag(message)):
        diag("first build of the warehouse…")


def _invoke_interruptibly(session: Any, kwargs: dict) -> RunFinished:
    """dbt runs in a thread; Ctrl+C in the main thread cancels it cleanly, a second Ctrl+C exits at once.

    The main thread waits on an Event, not `Thread.join`: a KeyboardInterrupt inside `join` can leave
    the thread looking finished while it still runs.
    """
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def target() -> None:
        try:
            outcome["finished"] = session.invoke(**kwargs)
        except BaseException as error:  # handed to the main thread
            outcome["error"] = error
        finally:
            done.set()

    threading.Thread(target=target, name="pipeline-tui-dbt", daemon=True).start()
    try:
        while not done.wait(0.1):
            pass
    except KeyboardInterrupt:
        diag("cancelling… (Ctrl+C again to quit at once)")
        session.cancel()
        try:
            _wait_after_cancel(session, done)
        except KeyboardInterrupt:
            os._exit(EXIT_CANCELLED)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["finished"]


def _wait_after_cancel(session: Any, done: threading.Event) -> None:
    """dbt normally returns within a second of a cancel. If it does not, leave anyway: DuckDB keeps
    its last committed state (as after kill -9) and the next start marks the run interrupted. The
    threads' stacks go to the workspace log, to find what held dbt."""
    deadline = time.monotonic() + CANCEL_GRACE_S
    while not done.wait(0.1):
        if time.monotonic() > deadline:
            log_dir = session.workspace.log_path
            log_dir.mkdir(parents=True, exist_ok=True)
            with open(log_dir / "cancel-stuck.log", "a") as log:
                faulthandler.dump_traceback(file=log, all_threads=True)
            diag(f"dbt did not stop within {CANCEL_GRACE_S:g} s of the cancel: quitting; "
                 f"tables keep their last committed version (details: {log_dir / 'cancel-stuck.log'})")
            os._exit(EXIT_CANCELLED)


@app.command()
def build(ctx: typer.Context, select: Select = None, exclude: Exclude = None, full_refresh: FullRefresh = False,
          vars: Vars = None, cost_per_hour: Rate = None, count_views: CountViews = False) -> None:
    """Build seeds, models, snapshots and their tests, in DAG order (dbt build)."""
    run_headless(ctx, "build", select, exclude, full_refresh, vars, cost_per_hour, count_views)


@app.command()
def run(ctx: typer.Context, select: Select = None, exclude: Exclude = None, full_refresh: FullRefresh = False,
        vars: Vars = None, cost_per_hour: Rate = None, count_views: CountViews = False) -> None:
    """Run models only, without tests (dbt run)."""
    run_headless(ctx, "run", select, exclude, full_refresh, vars, cost_per_hour, count_views)


@app.command()
def test(ctx: typer.Context, select: Select = None, exclude: Exclude = None, vars: Vars = None) -> None:
    """Run data tests and unit tests (dbt test)."""
    run_headless(ctx, "test", select, exclude, False, vars)


@app.command()
def seed(ctx: typer.Context, select: Select = None, exclude: Exclude = None, full_refresh: FullRefresh = False,
         vars: Vars = None) -> None:
    """Load CSV seeds into the warehouse (dbt seed)."""
    run_headless(ctx, "seed", select, exclude, full_refresh, vars)


@app.command()
def snapshot(ctx: typer.Context, select: Select = None, exclude: Exclude = None, vars: Vars = None) -> None:
    """Capture snapshots (slowly changing dimensions, dbt snapshot)."""
    run_headless(ctx, "snapshot", select, exclude, False, vars)


@app.command()
def freshness(ctx: typer.Context, select: Select = None, exclude: Exclude = None, vars: Vars = None) -> None:
    """Check how fresh the raw sources are (dbt source freshness)."""
    run_headless(ctx, "source freshness", select, exclude, False, vars)
