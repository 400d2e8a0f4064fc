"""The help screen: every key of the cockpit, read from the bindings themselves (one source of truth)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

EXTRA_KEYS = [
    ("ctrl+p", "Command palette: every action by name"),
    ("↑ ↓ pgup pgdn", "Move the selection"),
    ("esc", "Close this screen / clear the filter"),
]


def keys_table(app_bindings: list[Binding], screen_bindings: list[Binding]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("action")
    for binding in [*app_bindings, *screen_bindings]:
        if binding.description:
            table.add_row(binding.key_display or binding.key, binding.description)
    for key, what in EXTRA_KEYS:
        table.add_row(key, what)
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        from tui.screens.run import RunScreen

        with VerticalScroll(id="help"):
            yield Static("[b]pipeline-tui keys[/b]  (esc closes)", id="help-title")
            yield Static(keys_table(self.app.BINDINGS, RunScreen.BINDINGS), id="help-keys")
