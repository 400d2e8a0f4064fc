"""The collapsible log pane: dbt's messages of the current run, newest at the bottom.

A plain `Log` (lines of text) rather than a `RichLog`: cheaper to import and to append to.
"""

from __future__ import annotations

from textual.widgets import Collapsible, Log

MAX_LINES = 2000


class LogPane(Collapsible):
    def __init__(self, **kwargs) -> None:
        super().__init__(Log(max_lines=MAX_LINES, id="log"), title="log (l)", collapsed=True, **kwargs)

    def write_lines(self, lines: list[str]) -> None:
        self.query_one(Log).write_lines(lines)

    def clear_log(self) -> None:
        self.query_one(Log).clear()
