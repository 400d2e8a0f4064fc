"""One step of the triage: what it asks, its progress while it runs, then its verdict and result
tables (rendered with Rich, aggregates only)."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table as RichTable
from rich.text import Text
from textual.widgets import Static

from tui.core.checks.engine import StepResult, Table
from tui.core.checks.playbook import Step

STYLE = {"fail": "bold red", "warn": "yellow", "pass": "green", "error": "bold red"}
MAX_ROWS = 60


def rich_table(table: Table) -> RichTable:
    out = RichTable(title=table.title, title_justify="left", title_style="bold", expand=True, header_style="bold",
                    show_edge=False, padding=(0, 1))
    for column in table.columns:
        out.add_column(column, overflow="fold", ratio=3 if column in ("summary", "checks") else None)
    for row in table.rows[:MAX_ROWS]:
        cells = [Text(str(v).upper(), style=STYLE[v]) if v in STYLE else str(v) for v in row]
        out.add_row(*cells)
    if len(table.rows) > MAX_ROWS:
        out.caption = f"{len(table.rows) - MAX_ROWS} more rows in the report"
    return out


def step_view(step: Step, result: StepResult | None, progress: str | None) -> Group:
    parts = [Text(step.title, style="bold"), Text(step.help, style="dim")]
    if progress is not None:
        parts.append(Text(f"running: {progress}", style="cyan"))
    elif result is None:
        parts.append(Text("not run yet: press enter to run its queries", style="dim"))
    else:
        verdict = Text(f"{result.status.upper()}  ", style=STYLE.get(result.status, ""))
        verdict.append(f"{result.verdict}  ({result.seconds:.1f}s, {len(result.queries)} queries)")
        parts += [verdict, Text("")]
        parts += [rich_table(t) for t in result.tables]
    return Group(*parts)


class StepView(Static):
    def show(self, step: Step, result: StepResult | None, progress: str | None = None) -> None:
        self.update(step_view(step, result, progress))
