"""The Model detail screen: what a node is, where it sits in the DAG, its SQL, columns, tests and history."""

from __future__ import annotations

from rich.console import Group
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.core.project import Project
from tui.core.run_view import NodeState, RunView
from tui.widgets.cells import BAD, as_text, count, seconds, status_cell
from tui.widgets.chart import RunChart
from tui.widgets.header import CockpitHeader


def summary_text(state: NodeState, labels: dict[str, str]) -> Text:
    node = state.node
    text = Text()
    text.append(node.name, style="bold")
    text.append(f"  {node.resource_type} · {node.materialized or '—'} · {node.layer} · {node.original_file_path}\n", style="dim")
    text.append(node.description or "(no description)")
    text.append("\nlast run: ")
    text.append_text(as_text(status_cell(state.status)))
    text.append(f"  {seconds(state.duration_s) or '—'} (median {seconds(state.median_s) or '—'})  rows {count(state.rows) or '—'}")
    if state.current and state.current.message and state.status not in ("success", "pass"):
        text.append(f"\n{state.current.message.splitlines()[0]}", style=BAD)
    return text


def lineage_text(project: Project, uid: str) -> Text:
    def names(uids: list[str]) -> str:
        shown = [project.nodes[u].name if u in project.nodes else u.split(".")[-1] for u in uids]
        return ", ".join(shown) or "—"

    text = Text()
    text.append("upstream   ", style="bold")
    text.append(names(project.upstream(uid)) + "\n")
    text.append("downstream ", style="bold")
    text.append(names(project.downstream(uid)))
    return text


def columns_table(project: Project, view: RunView, uid: str) -> Table:
    """Columns with their tests: names never break mid-word, and each test keeps its result on its
    own line (`✓ unique`), so only the description wraps."""
    tests = project.tests_of(uid)
    node = project.nodes[uid]
    names = [c.name for c in node.columns] + sorted({t.column for t in tests if t.column} - {c.name for c in node.columns})
    described = {c.name: c for c in node.columns}
    rows = [(name, _test_badges(view, [t for t in tests if t.column == name]))
            for name in names + ([None] if any(t.column is None for t in tests) else [])]
    table = Table(box=None, expand=True, header_style="bold", padding=(0, 1))
    widest_test = max((line.cell_len for _, badges in rows for line in badges.split("\n")), default=5)
    table.add_column("column", no_wrap=True, min_width=max((len(n or "(model)") for n, _ in rows), default=6))
    table.add_column("type", no_wrap=True)
    table.add_column("tests (last result)", no_wrap=True, min_width=widest_test)
    table.add_column("description", ratio=1)
    for name, badges in rows:
        column = described.get(name) if name else None
        table.add_row(name or "(model)", (column.data_type if column else None) or "", badges,
                      column.description if column else "")
    return table


def _test_badges(view: RunView, tests: list) -> Text:
    lines = []
    for test in tests:
        state = view.nodes.get(test.unique_id)
        badge = status_cell(state.status if state else None, compact=True)
        lines.append(Text.assemble((badge.text, badge.style), " ", test.test_name))
    return Text("\n").join(lines)


def sql_view(project: Project, uid: str, dark: bool) -> Syntax | Group | Text:
    """The compiled SQL; before the first build, the source SQL under a line that says so."""
    sql, note = project.compiled_sql(uid), None
    if not sql:
        sql, note = project.source_sql(uid), "source SQL (not compiled yet: build it to see the compiled SQL)"
    if not sql:
        return Text("no SQL for this node", style="dim")
    code = Syntax(sql.strip(), "sql", theme="ansi_dark" if dark else "ansi_light", background_color="default",
                  word_wrap=True, code_width=None)
    return Group(Text(note, style="dim"), code) if note else code


class DetailScreen(Screen):
    BINDINGS = [Binding("escape", "app.pop_screen", "Back", tooltip="Back to the screen you came from.")]

    def __init__(self, uid: str):
        super().__init__()
        self.uid = uid

    def compose(self) -> ComposeResult:
        yield CockpitHeader(id="header")
        with VerticalScroll(id="detail"):
            yield Static(id="detail-summary")
            yield Static(id="detail-lineage")
            yield Static("Columns and tests", classes="section")
            yield Static(id="detail-columns")
            with Horizontal(id="detail-charts"):
                yield RunChart(id="duration-chart")
                yield RunChart(id="rows-chart")
            yield Static("Compiled SQL", classes="section")
            yield Static(id="detail-sql")
        yield Footer(show_command_palette=False)  # at 80 columns the keys need the line; `?` lists ctrl+p

    def on_mount(self) -> None:
        self.app.view_changed.subscribe(self, self._on_view_changed)
        self.redraw()

    def _on_view_changed(self, uids: set[str] | None) -> None:
        if uids is None or self.uid in uids:
            self.redraw()

    def redraw(self) -> None:
        view, project = self.app.view, self.app.cockpit.project
        state = view.nodes.get(self.uid) if view else None
        if state is None or project is None:
            return
        self.query_one("#detail-summary", Static).update(summary_text(state, self.app.labels))
        self.query_one("#detail-lineage", Static).update(lineage_text(project, self.uid))
        self.query_one("#detail-columns", Static).update(columns_table(project, view, self.uid))
        self.query_one("#detail-sql", Static).update(sql_view(project, self.uid, self.app.current_theme.dark))
        self.query_one("#duration-chart", RunChart).show("duration", state.timed_series("duration_s", 50))
        self.query_one("#rows-chart", RunChart).show("rows", state.timed_series("rows", 50), unit="rows")
