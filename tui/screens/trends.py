"""The Trends screen: run time and estimated cost per run, the selected model's rows and duration
across runs, and the worst regressions against each model's own median."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Grid
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.core.trends import why_no_regressions, worst_regressions
from tui.widgets.cells import BAD, WARN, seconds
from tui.widgets.chart import RunChart
from tui.widgets.header import CockpitHeader


class TrendsScreen(Screen):
    def compose(self) -> ComposeResult:
        yield CockpitHeader(id="header")
        with Grid(id="trend-charts"):
            yield RunChart(id="runs-chart")
            yield RunChart(id="cost-chart")
            yield RunChart(id="model-duration-chart")
            yield RunChart(id="model-rows-chart")
        yield Static("Slower than usual: latest run vs the model's median, beyond its noise (enter: chart it)",
                     classes="screen-title")
        yield Static("", id="regressions-empty", classes="empty-state")
        yield DataTable(id="regressions", cursor_type="row")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#regressions", DataTable)
        for key, label in (("model", "Model"), ("median", "Median before"), ("now", "Now"), ("ratio", "Ratio")):
            table.add_column(label, key=key)
        self.app.view_changed.subscribe(self, self._on_view_changed)
        self.redraw()

    def on_screen_resume(self) -> None:
        self.redraw()

    def _on_view_changed(self, uids: set[str] | None) -> None:
        view = self.app.view
        if uids is None or (view is not None and view.finished is not None):
            self.redraw()

    def redraw(self) -> None:
        view = self.app.view
        if view is None:
            return
        totals = self.app.cockpit.run_totals()
        ends = [t.started_at + t.elapsed_s for t in totals]
        self.query_one("#runs-chart", RunChart).show("full builds: run time", list(zip(ends, [t.elapsed_s for t in totals])))
        self.query_one("#cost-chart", RunChart).show("full builds: est. cost", list(zip(ends, [t.cost_usd for t in totals])),
                                                     unit="$")
        self._show_model()
        self._show_regressions()

    def _show_model(self) -> None:
        view, uid = self.app.view, self.app.selected_uid
        state = view.nodes.get(uid) if uid else None
        name = state.node.name if state else "selected model"
        self.query_one("#model-duration-chart", RunChart).show(
            f"{name}: duration", state.timed_series("duration_s", 50) if state else [])
        self.query_one("#model-rows-chart", RunChart).show(
            f"{name}: rows", state.timed_series("rows", 50) if state else [], unit="rows")

    def _show_regressions(self) -> None:
        table = self.query_one("#regressions", DataTable)
        table.clear()
        found = worst_regressions(self.app.view)
        for r in found:
            ratio = Text(f"×{r.ratio:.1f}", style="bold white on " + BAD if r.regressed else WARN)
            table.add_row(r.name, seconds(r.median_s), seconds(r.now_s), ratio, key=r.unique_id)
        empty = self.query_one("#regressions-empty", Static)
        empty.update("" if found else why_no_regressions(self.app.view))
        empty.display, table.display = not found, bool(found)

    @on(DataTable.RowSelected, "#regressions")
    def _select_model(self, event: DataTable.RowSelected) -> None:
        """Enter on a regression charts that model (moving the cursor alone changes nothing)."""
        if event.row_key.value:
            self.app.selected_uid = event.row_key.value
            self._show_model()
