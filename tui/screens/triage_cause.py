"""One cause of the triage (`enter` on a cause): its whole summary, the evidence, the symptoms it
explains with their lineage path, and the queries the checks ran on its objects; `m` opens the
detail of its model (or of the first model a symptom sits on)."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.core.checks.causes import Cause
from tui.core.checks.findings import QueryRecord

STYLE = {"fail": "bold red", "warn": "yellow", "pass": "green"}
MAX_SQL = 400


def cause_view(cause: Cause, queries: list[QueryRecord]) -> Group:
    head = Text(f"{cause.status.upper()} ", style=STYLE.get(cause.status, ""))
    head.append(f"{cause.kind} on {cause.object}{'.' + cause.column if cause.column else ''}", style="bold")
    parts = [head, Text(cause.summary), Text(""), Text("Evidence", style="bold")]
    parts += [Text(f"  {key}: {_value(value)}") for key, value in cause.evidence.items() if value not in (None, [], "")]
    parts += [Text(""), Text(f"Symptoms it explains ({len(cause.symptoms)})", style="bold")]
    for s in cause.symptoms:
        line = Text("  ")
        line.append(f"{s.status.upper():<4} ", style=STYLE.get(s.status, ""))
        line.append(" > ".join(s.path) + (f".{s.column}" if s.column else ""), style="cyan")
        line.append(f": {s.summary}")
        parts.append(line)
    if not cause.symptoms:
        parts.append(Text("  none downstream", style="dim"))
    parts += [Text(""), Text(f"Queries used ({len(queries)})", style="bold")]
    for q in queries:
        sql = q.sql if len(q.sql) <= MAX_SQL else q.sql[:MAX_SQL] + " …"
        parts += [Text(f"  {q.label} ({q.seconds:.3f}s, {q.rows} rows)", style="dim"), Text(f"    {sql}")]
    return Group(*parts)


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


def queries_for(cause: Cause, queries: list[QueryRecord]) -> list[QueryRecord]:
    """The queries that read the cause's objects (by their table name in the SQL)."""
    names = {cause.object.split(".")[-1]} | {s.object.split(".")[-1] for s in cause.symptoms}
    return [q for q in queries if any(n and n in q.sql for n in names)]


class CauseScreen(Screen):
    HIDES_RUN_KEYS = True  # the footer is for this view's keys
    DEFAULT_CSS = """
    CauseScreen #cause-scroll { height: 1fr; border: round $primary 40%; padding: 0 1; }
    """
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", tooltip="Back to the triage."),
                Binding("m", "model", "Model detail", tooltip="Open the detail of the first model this cause sits on.")]

    def __init__(self, cause: Cause, queries: list[QueryRecord], open_detail) -> None:
        super().__init__()
        self.cause, self.queries, self._open_detail = cause, queries, open_detail

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="cause-scroll"):
            yield Static(cause_view(self.cause, self.queries), id="cause-body")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#cause-scroll").border_title = f"cause {self.cause.id} (m: model detail, escape: back)"

    def action_model(self) -> None:
        candidates = [self.cause.object] + [s.object for s in self.cause.symptoms]
        self._open_detail(candidates)
