"""The `pipeline-tui` command line: thin; parses arguments and calls the core or the app.

Global options (`--project-dir`, `--profiles-dir`, `--target`, `--workspace`) live on the root
callback, which resolves a `Workspace` into `ctx.obj` for the subcommands. Each group of commands
lives in its own module under `tui.commands` and is only registered here.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from tui.commands import fixtures as fixtures_commands
from tui.commands import deprecations as deprecations_commands
from tui.commands import history as history_commands
from tui.commands import rollback as rollback_commands
from tui.commands import run as run_commands
from tui.commands import triage as triage_commands

app = typer.Typer(
    name="pipeline-tui",
    help="A terminal cockpit for dbt pipelines.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(run_commands.app)
app.add_typer(history_commands.app, name="history")
app.add_typer(fixtures_commands.app, name="fixtures")
app.add_typer(triage_commands.app)
app.add_typer(rollback_commands.app)
app.add_typer(deprecations_commands.app)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    project_dir: Annotated[Optional[Path], typer.Option("--project-dir", help="A dbt project (default: the embedded demo project).")] = None,
    profiles_dir: Annotated[Optional[Path], typer.Option("--profiles-dir", help="Folder of profiles.yml (default: DBT_PROFILES_DIR, the project, then ~/.dbt).")] = None,
    target: Annotated[Optional[str], typer.Option("--target", help="dbt target of the profile (default: the profile's own).")] = None,
    workspace: Annotated[Optional[Path], typer.Option("--workspace", help="Folder for the warehouse, raw data, dbt target/logs and history (env PIPELINE_TUI_WORKSPACE).")] = None,
) -> None:
    """Open the cockpit when no command is given."""
    if ctx.invoked_subcommand is None:
        from tui.launch import run_from_cli  # lazily: subcommands never load Textual

        run_from_cli(ctx)
        return
    from tui.core.workspace import Workspace, WorkspaceError

    try:
        ctx.obj = Workspace.resolve(workspace=workspace, project_dir=project_dir, profiles_dir=profiles_dir,
                                    target=target)
    except WorkspaceError as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    _history_notice(ctx.obj)


def _history_notice(workspace) -> None:
    """A broken or foreign history file is moved aside once, at start, and the user is told so."""
    from tui.core.history import open_notice

    notice = open_notice(workspace.history_path)
    if notice:
        typer.echo(f"warning: {notice}", err=True)


GLOBAL_OPTIONS = {"--project-dir": "project_dir", "--profiles-dir": "profiles_dir", "--target": "target",
                  "--workspace": "workspace"}


def cockpit_options(args: list[str]) -> dict[str, str] | None:
    """The global options when `args` holds nothing else (the cockpit opens), else None."""
    options: dict[str, str] = {}
    rest = iter(args)
    for arg in rest:
        name, _, value = arg.partition("=")
        if name not in GLOBAL_OPTIONS:
            return None
        options[GLOBAL_OPTIONS[name]] = value if "=" in arg else next(rest, "")
    return options if all(options.values()) else None


def open_cockpit_fast(args: list[str]) -> bool:
    """Opening the cockpit needs neither typer nor the command modules (about 0.1 s of the launch)."""
    options = cockpit_options(args)
    if options is None or not (sys.stdin.isatty() and sys.stdout.isatty()):
        return False
    from tui.launch import open_cockpit

    open_cockpit(options)
    return True


def main() -> None:
    """Console entry point: no traceback reaches the user, only one line (details go to the log)."""
    try:
        if not open_cockpit_fast(sys.argv[1:]):
            app()
    except KeyboardInterrupt:
        print("cancelled", file=sys.stderr)
        sys.exit(130)
    except Exception as error:  # a bug or an unexpected environment problem
        from tui.core.errors import translate

        print(f"error: {translate(error)}", file=sys.stderr)
        sys.exit(2)
