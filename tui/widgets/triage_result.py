"""One step of the triage: what it asks, its progress while it runs, then its verdict and result
tables (rendered with Rich, aggregates only)."""

from __future__ import annotations

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.measure import Measurement
from rich.table import Table as RichTable
from rich.text import Text
from textual.widgets import Static

from tui.core.checks.engine import StepResult, Table
from tui.core.checks.playbook import Step

STYLE = {"fail": "bold red", "warn": "yellow", "pass": "green", "error": "bold red"}
MAX_ROWS = 60
SHORT = {"columns": "cols", "deliveries": "feeds", "newest rows": "newest", "seconds": "secs"}  # narrow panels
PROSE = ("summary", "checks")  # wrap on words; every other cell stays on one line
NARROW = 70  # below this width (the panel at 80 columns is 44 wide) a table leaves out...
OPTIONAL = ("columns", "seconds", "check")  # ...these columns, so that object names stay readable


class StepTable:
    """A result table that lays itself out for the width it is given (the panel's, at render time)."""

    def __init__(self, table: Table):
        self.table = table

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        natural = rich_table(self.table)
        unbounded = options.update_width(10_000)  # a measurement is capped at the width it is given
        if Measurement.get(console, unbounded, natural).maximum <= options.max_width:
            yield natural  # everything fits on one line per row
        else:
            yield rich_table(self.table, narrow=options.max_width < NARROW, elastic=True)


def rich_table(table: Table, narrow: bool = False, elastic: bool = False) -> RichTable:
    """The step's table. Elastic, it is readable at 80 columns: names share the width left by the
    numbers and are cut with an ellipsis rather than wrapped letter by letter; narrow, the optional
    columns are left out too (the report has them all). An object and its column show as `object.column`."""
    columns, rows = merged_where(table)
    if narrow:
        keep = [i for i, c in enumerate(columns) if c not in OPTIONAL]
        columns, rows = tuple(columns[i] for i in keep), tuple(tuple(r[i] for i in keep) for r in rows)
    out = RichTable(title=table.title, title_justify="left", title_style="bold", expand=elastic, header_style="bold",
                    show_edge=False, padding=(0, 1), pad_edge=False)
    for index, column in enumerate(columns):
        values = [row[index] for row in rows[:MAX_ROWS]]
        numeric = bool(values) and all(isinstance(v, (int, float)) or v in ("", None) for v in values)
        if column in PROSE:
            out.add_column(column, ratio=3 if elastic else None, min_width=12, overflow="fold")
        elif numeric or column == "status":
            out.add_column(SHORT.get(column, column), justify="right" if numeric else "left", no_wrap=True)
        else:  # names share what is left, cut with an ellipsis
            out.add_column(SHORT.get(column, column), no_wrap=True, overflow="ellipsis", min_width=6,
                           ratio=(2 if column in ("object", "where") else 1) if elastic else None)
    for row in rows[:MAX_ROWS]:
        out.add_row(*[Text(str(v).upper(), style=STYLE[v]) if v in STYLE else str(v) for v in row])
    if len(rows) > MAX_ROWS:
        out.caption = f"{len(rows) - MAX_ROWS} more rows in the report"
    return out


def merged_where(table: Table) -> tuple[tuple[str, ...], tuple[tuple, ...]]:
    """`object` and `column` as one `where` column (as in the findings panel), else the table as is."""
    if "object" not in table.columns or "column" not in table.columns:
        return table.columns, table.rows
    obj, col = table.columns.index("object"), table.columns.index("column")
    keep = [i for i in range(len(table.columns)) if i != col]
    columns = tuple("where" if i == obj else table.columns[i] for i in keep)
    rows = tuple(tuple(f"{r[obj]}.{r[col]}" if i == obj and r[col] else r[i] for i in keep) for r in table.rows)
    return columns, rows


def step_view(step: Step, result: StepResult | None, progress: str | None) -> Group:
    """The verdict comes right under the title (at 80x24 it is what must be seen), then the question."""
    parts = [Text(step.title, style="bold")]
    if progress is not None:
        parts.append(Text(f"running: {progress}", style="cyan"))
    elif result is None:
        parts.append(Text("not run yet: press enter to run its queries", style="dim"))
    else:
        verdict = Text(f"{result.status.upper()}  ", style=STYLE.get(result.status, ""))
        verdict.append(f"{result.verdict}  ({result.seconds:.1f}s, {len(result.queries)} queries)")
        parts.append(verdict)
    parts += [Text(step.help, style="dim"), Text("")]
    if result is not None and progress is None:
        parts += [StepTable(t) for t in result.tables]
        if result.skipped and result.findings:  # a step with nothing to check says why in its verdict
            parts.append(Text(f"skipped (not applicable): {', '.join(k for k, _ in result.skipped)}", style="dim"))
    return Group(*parts)


class StepView(Static):
    def show(self, step: Step, result: StepResult | None, progress: str | None = None) -> None:
        self.update(step_view(step, result, progress))
