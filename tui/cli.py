"""The `pipeline-tui` command line: thin; parses arguments and calls the core or the app."""

from __future__ import annotations

import typer

from tui.commands import fixtures as fixtures_commands

app = typer.Typer(
    name="pipeline-tui",
    help="A terminal cockpit for dbt pipelines.",
    no_args_is_help=False,
    add_completion=False,
)
app.add_typer(fixtures_commands.app, name="fixtures")


@app.callback(invoke_without_command=True)
def root(ctx: typer.Context) -> None:
    """Open the cockpit when no command is given."""
    if ctx.invoked_subcommand is None:
        from tui.launch import run_from_cli  # lazily: subcommands never load Textual

        run_from_cli(ctx)


def main() -> None:
    app()
