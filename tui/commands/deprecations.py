"""`pipeline-tui deprecations [--json] [--drop MODEL [--yes] [--quiet-days N]]`: the deprecated models,
with their date, days left, replacement, who still refs them and the reads seen; `--drop` is the
hard deprecation (refused while anything refs the model or reads were seen recently).

Exit 0 listed or dropped, 1 declined at the prompt, 2 refused or bad input (one line, nothing changed).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from tui.commands.output import EXIT_FAILED, diag, fail

app = typer.Typer()

NOT_OBSERVED = ("reads observed: pipeline-tui's own checks, and DuckDB's query log where you turned it on "
                "(see README); a DuckDB file read by another tool leaves no trace")


@app.command()
def deprecations(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON document (a list of models).")] = False,
    drop: Annotated[Optional[str], typer.Option("--drop", help="Hard-deprecate MODEL: drop its relation, list its files.")] = None,
    quiet_days: Annotated[Optional[int], typer.Option("--quiet-days", help="With --drop: no reads for this many days (default 30; env PIPELINE_TUI_DEPRECATION_QUIET_DAYS).")] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="With --drop: do not ask for confirmation.")] = False,
) -> None:
    """Deprecated models: date, days left, replacement, models and exposures still ref'ing them, reads seen."""
    workspace = ctx.obj
    if workspace is None:
        fail("no workspace resolved (internal): run through the pipeline-tui command")
    found = _load(workspace, fresh=drop is not None)
    if drop is not None:
        _drop(workspace, found, drop, quiet_days, yes)
    elif as_json:
        typer.echo(json.dumps([d.to_dict() for d in found], indent=2))
    else:
        _table(found)


def _load(workspace, fresh: bool):
    from tui.core.deprecations import deprecated_models
    from tui.core.history import HistoryStore
    from tui.core.project import ManifestMissing, load_project
    from tui.core.reads import log_folders

    if fresh and _manifest_stale(workspace):
        _parse(workspace)  # a drop must not trust a manifest older than the project's files
    try:
        project = load_project(workspace.target_path)
    except (ManifestMissing, ValueError) as error:
        fail(f"{str(error).splitlines()[0]}: run `pipeline-tui build` first")
    history = HistoryStore(workspace.history_path) if Path(workspace.history_path).is_file() else None
    try:
        return deprecated_models(project, history, log_folders(workspace))
    finally:
        if history is not None:
            history.close()


def _manifest_stale(workspace) -> bool:
    manifest = Path(workspace.manifest_path)
    if not manifest.is_file():
        return True
    built = manifest.stat().st_mtime
    skip = {Path(workspace.target_path).resolve(), Path(workspace.log_path).resolve()}
    for path in Path(workspace.project_dir).rglob("*"):
        if path.suffix in (".sql", ".yml", ".yaml") and not any(s in path.resolve().parents for s in skip):
            if path.stat().st_mtime > built:
                return True
    return False


def _parse(workspace) -> None:
    from tui.core.dbt_host.session import DbtSession, SessionError

    diag("the project changed since its last parse: parsing it again…")
    session = DbtSession(workspace, history=None)
    try:
        session.warm_up()
    except SessionError as error:
        fail(str(error))
    finally:
        session.close()


def _table(found) -> None:
    if not found:
        typer.echo("no deprecated models")
    for d in found:
        left = f"{d.days_left} days left" if d.days_left is not None and d.days_left >= 0 else \
            (f"{-d.days_left} days past" if d.days_left is not None else "no date")
        typer.echo(f"{d.name}  ·  {d.deprecation_date or '-'} ({left})  ·  replacement: {d.replacement or '-'}")
        typer.echo(f"  ref'd by: {', '.join(d.referenced_by) or 'nothing'}; exposures: {', '.join(d.exposures) or 'none'}")
        uses = [r for r in d.reads if r.holds_drop]
        typer.echo(f"  reads seen: {len(uses)} uses, {len(d.reads) - len(uses)} by pipeline-tui's checks"
                   + (f" (last {d.to_dict()['reads'][0]['at']})" if d.reads else ""))
    diag(NOT_OBSERVED)


def _drop(workspace, found, name: str, quiet_days: int | None, yes: bool) -> None:
    from tui.commands.rollback import confirmed
    from tui.core import checkpoints
    from tui.core.checkpoints import CheckpointError
    from tui.core.deprecations import drop_refusal, drop_relation, project_files, quiet_days_setting

    chosen = next((d for d in found if name in (d.name, d.identifier, d.unique_id)), None)
    if chosen is None:
        fail(f"{name} is not a deprecated model (see `pipeline-tui deprecations`): deprecate it softly first")
    why = drop_refusal(chosen, quiet_days if quiet_days is not None else quiet_days_setting())
    if why:
        fail(f"refusing to drop: {why}")
    if not yes and not confirmed(f"drop {chosen.schema or 'main'}.{chosen.identifier} from the warehouse?"):
        diag("drop declined: nothing changed (--yes skips the question)")
        raise typer.Exit(EXIT_FAILED)
    try:
        dropped = drop_relation(checkpoints.duckdb_file(workspace), chosen)
    except CheckpointError as error:
        fail(str(error))
    typer.echo(f"dropped {dropped}; now delete from the project:")
    for line in project_files(Path(workspace.project_dir), chosen):
        typer.echo(f"  {line}")
