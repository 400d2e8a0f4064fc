"""The collapsible log pane: dbt's messages of the current run, newest at the bottom."""

from __future__ import annotations

from textual.widgets import Collapsible, RichLog

MAX_LINES = 2000


class LogPane(Collapsible):
    def __init__(self, **kwargs) -> None:
        log = RichLog(max_lines=MAX_LINES, wrap=False, markup=False, highlight=False, id="log")
        super().__init__(log, title="log (l)", collapsed=True, **kwargs)

    def write_lines(self, lines: list[str]) -> None:
        log = self.query_one(RichLog)
        for line in lines:
            log.write(line)

    def clear_log(self) -> None:
        self.query_one(RichLog).clear()
