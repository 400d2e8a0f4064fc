"""`pipeline-tui history`: recent runs (table or `--json`), one run's nodes, and `history import`."""

from __future__ import annotations

import dataclasses
import json
import time
from typing import Annotated, Optional

import typer

from tui.commands.output import fail, seconds
from tui.core.costs import format_cost
from tui.core.history import HistoryError, HistoryStore
from tui.core.workspace import Workspace

app = typer.Typer(help="Run history: recent runs, one run's nodes, import of dbt's run_results.json.")

Json = Annotated[bool, typer.Option("--json", help="Print JSON (one document) instead of a table.")]


def _store(ctx: typer.Context) -> HistoryStore:
    workspace = ctx.obj
    if not isinstance(workspace, Workspace):
        fail("no workspace resolved (internal): run through the pipeline-tui command")
    try:
        return HistoryStore(workspace.history_path)
    except HistoryError as error:
        fail(str(error))


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else "-"


@app.callback(invoke_without_command=True)
def runs(ctx: typer.Context, limit: Annotated[int, typer.Option("--limit", "-n", help="How many runs.")] = 20,
         as_json: Json = False) -> None:
    """Recent runs, newest first (id, command, selector, status, time, est. cost)."""
    if ctx.invoked_subcommand is not None:
        return
    with _store(ctx) as store:
        records = store.recent_runs(limit)
    if as_json:
        typer.echo(json.dumps([dataclasses.asdict(r) for r in records], indent=2))
        return
    if not records:
        typer.echo("no runs recorded yet: run `pipeline-tui build`", err=True)
        return
    typer.echo(f"{'run':<10}{'started':<21}{'command':<18}{'status':<13}{'time':>9}  {'cost':<15}selector")
    for r in records:
        typer.echo(f"{r.run_id[:8]:<10}{_when(r.started_at):<21}{r.command[:17]:<18}{r.status:<13}"
                   f"{seconds(r.elapsed_s):>9}  {format_cost(r.est_cost_usd):<15}{r.selector or ''}")


@app.command("show")
def show(ctx: typer.Context, run_id: Annotated[Optional[str], typer.Argument(help="Run id or its first characters (default: the latest run).")] = None,
         as_json: Json = False) -> None:
    """The nodes of one run: status, duration, rows, est. cost."""
    with _store(ctx) as store:
        candidates = store.recent_runs(1000)
        run = next((r for r in candidates if run_id is None or r.run_id.startswith(run_id)), None)
        if run is None:
            fail(f"no run matches {run_id!r}: see `pipeline-tui history`" if run_id else "no runs recorded yet")
        nodes = store.node_results(run.run_id)
    if as_json:
        typer.echo(json.dumps({"run": dataclasses.asdict(run), "nodes": [dataclasses.asdict(n) for n in nodes]}, indent=2))
        return
    typer.echo(f"run {run.run_id} · {run.command} · {run.status} · {seconds(run.elapsed_s)} · {format_cost(run.est_cost_usd)}")
    for n in nodes:
        rows = f"{n.rows:,}" if n.rows is not None else "-"
        typer.echo(f"  {n.status:<10}{n.name:<40}{seconds(n.duration_s):>9}{rows:>12}  {format_cost(n.est_cost_usd)}")


@app.command("import")
def import_(ctx: typer.Context, path: Annotated[str, typer.Argument(help="A dbt target/run_results.json.")],
            cost_per_hour: Annotated[Optional[float], typer.Option("--cost-per-hour", help="USD per hour for the est. cost.")] = None) -> None:
    """Import a run made with the plain dbt CLI or in CI (its target/run_results.json)."""
    from tui.core.history_import import RunResultsError, import_run_results

    with _store(ctx) as store:
        try:
            run, count = import_run_results(store, path, cost_per_hour)
        except RunResultsError as error:
            fail(str(error))
    typer.echo(f"imported run {run.run_id} ({run.command}, {run.status}, {count} nodes)")
