"""The help screen: every key of every screen, each with a sentence, read from the bindings themselves
(their tooltips: one source of truth with the command palette)."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

# Keys handled by widgets rather than bindings, per section.
EXTRA_KEYS = {
    "Everywhere": [("ctrl+p", "Open the command palette: every action by name, with what it does.")],
    "Run screen": [("↑ ↓ pgup pgdn", "Move the selection (home and end: first and last); a click selects, a double click opens the detail.")],
    "Triage": [("enter", "Run the selected step's queries (on a finding: open its model's detail)."),
               ("tab", "Move between the steps, the step's result and the findings.")],
}


def _sentences(bindings: list[Binding]) -> list[tuple[str, str]]:
    return [(b.key_display or b.key, b.tooltip or b.description) for b in bindings if b.description]


def keys_table(sections: list[tuple[str, list[Binding]]]) -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0), expand=True)
    table.add_column("key", style="bold", no_wrap=True)
    table.add_column("what it does", ratio=1)
    for title, bindings in sections:
        table.add_row(Text(title, style="bold underline"), "")
        for key, what in _sentences(bindings) + EXTRA_KEYS.get(title, []):
            table.add_row(key, what)
        table.add_row("", "")
    return table


def help_sections(app_bindings: list[Binding]) -> list[tuple[str, list[Binding]]]:
    from tui.screens.deprecations import DeprecationsScreen
    from tui.screens.detail import DetailScreen
    from tui.screens.rollback import RollbackScreen
    from tui.screens.run import RunScreen
    from tui.screens.triage import TriageScreen
    from tui.screens.triage_cause import CauseScreen

    return [("Everywhere", app_bindings), ("Run screen", RunScreen.BINDINGS), ("Triage", TriageScreen.BINDINGS),
            ("Likely cause", CauseScreen.BINDINGS), ("Model detail", DetailScreen.BINDINGS),
            ("Roll back", RollbackScreen.BINDINGS), ("Deprecated models", DeprecationsScreen.BINDINGS)]


class HelpScreen(ModalScreen[None]):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static("[b]pipeline-tui keys[/b]  (esc closes; ↑ ↓ scroll)", id="help-title")
            yield Static(keys_table(help_sections(self.app.BINDINGS)), id="help-keys")
