"""The findings panel: every finding of the triage so far, fails first; a row's key is its index."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.core.checks.findings import Finding, by_severity

STYLE = {"fail": "bold red", "warn": "yellow", "pass": "green"}
WHERE_MIN = 24


def middle_cut(text: str, width: int) -> str:
    """`int_claims_agg…total_amount`: both the object's start and the column stay readable."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    return text[:head] + "…" + text[len(text) - (width - 1 - head):]


class FindingsTable(DataTable):
    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.add_columns("status", "where", "finding")
        self.findings: list[Finding] = []

    def show(self, findings: list[Finding], include_pass: bool = False) -> None:
        self.findings = [f for f in by_severity(findings) if include_pass or f.status != "pass"]
        self.clear()
        room = max(WHERE_MIN, self.app.size.width // 3)  # the finding itself gets the rest
        for index, f in enumerate(self.findings):
            where = middle_cut(f.object + (f".{f.column}" if f.column else ""), room)
            self.add_row(Text(f.status.upper(), style=STYLE[f.status]), where, f.summary, key=str(index))

    @property
    def selected(self) -> Finding | None:
        if not self.findings or self.cursor_row is None or not 0 <= self.cursor_row < len(self.findings):
            return None
        return self.findings[self.cursor_row]
