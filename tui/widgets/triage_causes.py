"""The causes panel: the triage's likely causes, most likely first, one wrapped line each (never cut)."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.core.checks.causes import Cause

STYLE = {"fail": "bold red", "warn": "yellow", "pass": "green"}


def cause_line(number: int, cause: Cause) -> Text:
    line = Text(f"{number:>2} ")
    line.append(f"{cause.status.upper():<4}", style=STYLE.get(cause.status, ""))
    line.append(f" {cause.kind} ", style="bold")
    line.append(cause.summary)
    return line


class CausesList(OptionList):
    def on_mount(self) -> None:
        self.causes: list[Cause] = []

    def show(self, causes: list[Cause]) -> None:
        keep = self.highlighted
        self.causes = list(causes)
        self.clear_options()
        if not causes:
            self.add_option(Option(Text("no cause yet: run the steps (a runs them all). To try it on the demo: "
                                        "`pipeline-tui fixtures incident`, then b (build), then i (triage)", style="dim"),
                                   id="none", disabled=True))
            return
        self.add_options([Option(cause_line(i, c), id=c.id) for i, c in enumerate(causes, 1)])
        self.highlighted = min(keep or 0, len(causes) - 1)

    @property
    def selected(self) -> Cause | None:
        index = self.highlighted
        return self.causes[index] if self.causes and index is not None and 0 <= index < len(self.causes) else None
