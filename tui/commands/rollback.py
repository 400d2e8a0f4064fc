"""`pipeline-tui rollback [--to RUN_ID] [--yes] [--list]`: restore the warehouse to the end of an earlier
successful run (default: the newest one before the latest whose `check` had no failure).

Exit 0 restored (or listed), 1 declined at the prompt, 2 bad input (unknown run, a failed run, one
older than the retained checkpoints, a locked warehouse): one line, nothing changed.
"""

from __future__ import annotations

import time
from typing import Annotated, Optional

import typer

from tui.commands.output import EXIT_FAILED, diag, fail

app = typer.Typer()

SHOWN = 25  # relations listed before "… and N more"


def _mb(value: float) -> str:
    return f"{value / 1e6:,.1f} MB"


def _when(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


@app.command()
def rollback(
    ctx: typer.Context,
    to: Annotated[Optional[str], typer.Option("--to", help="Run id (or its first characters) to restore; default: the newest earlier good run.")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the retained checkpoints and the disk they use.")] = False,
) -> None:
    """Roll the warehouse back to its state at the end of an earlier successful run (all or nothing)."""
    from tui.core.rollback import RollbackError, apply_rollback, plan_rollback

    workspace = ctx.obj
    if workspace is None:
        fail("no workspace resolved (internal): run through the pipeline-tui command")
    if list_:
        _list(workspace)
        return
    try:
        plan = plan_rollback(workspace, to)
    except RollbackError as error:
        fail(str(error))
    _show(plan)
    if not yes and not confirmed(f"restore these {len(plan.changes)} relations?"):
        diag("rollback declined: nothing changed (--yes skips the question)")
        raise typer.Exit(EXIT_FAILED)
    try:
        result = apply_rollback(workspace, plan)
    except RollbackError as error:
        fail(str(error))
    typer.echo(f"rolled back to run {plan.target.run_id[:8]}: {len(result.changes)} relations restored in "
               f"{result.seconds:.2f}s (recorded as run {result.run_id[:8]})")


def confirmed(question: str) -> bool:
    try:
        return typer.confirm(question, default=False, err=True)
    except (typer.Abort, EOFError):  # no terminal to answer on
        return False


def _show(plan) -> None:
    target = plan.target
    diag(f"roll back to run {target.run_id[:8]} ({target.command}, {_when(target.started_at)}); "
         f"{len(plan.later_runs)} later runs")
    for change in plan.changes[:SHOWN]:
        counts = " -> ".join(f"{n:,}" if n is not None else "-" for n in (change.rows_now, change.rows_then))
        diag(f"  {change.change:<10}{change.relation:<52}{counts} rows")
    if len(plan.changes) > SHOWN:
        diag(f"  … and {len(plan.changes) - SHOWN} more")
    diag(f"warehouse {_mb(plan.warehouse_bytes)}; retained checkpoints use {_mb(plan.retained_bytes)}")


def _list(workspace) -> None:
    from tui.core import checkpoints

    kept = checkpoints.list_checkpoints(workspace)
    warehouse = workspace.warehouse
    size = warehouse.stat().st_size if warehouse is not None and warehouse.is_file() else 0
    typer.echo(f"retention: the last {checkpoints.keep_setting()} good runs ({checkpoints.KEEP_ENV}) "
               f"and the newest unchecked one")
    for checkpoint in kept:
        typer.echo(f"  {checkpoint.run_id[:8]}  {_when(checkpoint.taken_at)}  {_mb(checkpoint.bytes):>12}  "
                   f"copied in {checkpoint.seconds:.2f}s")
    total = sum(c.bytes for c in kept)
    typer.echo(f"{len(kept)} checkpoints, {_mb(total)} on disk; warehouse {_mb(size)}")
