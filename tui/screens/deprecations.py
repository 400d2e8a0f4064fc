"""The deprecated models, with the same facts as `pipeline-tui deprecations`: date and days left,
replacement, models and exposures still ref'ing each, and the reads seen (loaded in a thread)."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

COLUMNS = ("model", "date", "days left", "replacement", "ref'd by", "exposures", "reads (uses/checks)")
NOT_OBSERVED = ("Reads: pipeline-tui's checks and DuckDB's query log where it is turned on; "
                "a DuckDB file read by another tool leaves no trace.")


def rows(found: list[Any]) -> list[tuple[str, ...]]:
    table = []
    for d in found:
        uses = sum(1 for r in d.reads if r.holds_drop)
        table.append((d.name, d.deprecation_date or "-", "-" if d.days_left is None else str(d.days_left),
                      d.replacement or "-", ", ".join(d.referenced_by) or "-", ", ".join(d.exposures) or "-",
                      f"{uses}/{len(d.reads) - uses}"))
    return table


class DeprecationsScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", tooltip="Back to the Run screen.")]

    def __init__(self, workspace: Any, project: Any):
        super().__init__()
        self.workspace = workspace
        self.project = project
        self.found: list[Any] | None = None

    def compose(self) -> ComposeResult:
        yield Static("[b]Deprecated models[/b]", id="deprecations-title")
        yield DataTable(id="deprecations", cursor_type="row")
        yield Static(NOT_OBSERVED, id="deprecations-note")
        yield Footer(show_command_palette=False)

    def on_mount(self) -> None:
        self.query_one(DataTable).add_columns(*COLUMNS)
        self.run_worker(self._load, thread=True, group="deprecations", exit_on_error=False)

    def _load(self) -> None:
        from tui.core.deprecations import deprecated_models
        from tui.core.history import HistoryStore
        from tui.core.reads import log_folders

        history = None
        try:
            history = HistoryStore(self.workspace.history_path) if self.workspace.history_path.is_file() else None
            found = deprecated_models(self.project, history, log_folders(self.workspace))
        except Exception as error:  # noqa: BLE001 - one line on screen, never a silent empty table
            line = (str(error).splitlines() or [type(error).__name__])[0]
            self.app.call_from_thread(self.notify, f"deprecated models not read: {line}", severity="error")
            return
        finally:
            if history is not None:
                history.close()
        self.app.call_from_thread(self._show, found)

    def _show(self, found: list[Any]) -> None:
        self.found = found
        table = self.query_one(DataTable)
        for row in rows(found):
            table.add_row(*row)
        if not found:
            self.query_one("#deprecations-title", Static).update("[b]Deprecated models[/b]: none")
