"""The Run screen (home): the run table, progress, errors, filter and the log pane."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Input

from tui.widgets.error_bar import ErrorBar
from tui.widgets.header import CockpitHeader
from tui.widgets.log_pane import LogPane
from tui.widgets.run_progress import RunProgress
from tui.widgets.run_table import RunTable

TICK_S = 0.2  # refresh of elapsed timers while a run is in progress


class RunScreen(Screen):
    BINDINGS = [
        Binding("slash", "filter", "Filter", key_display="/", tooltip="Filter the rows by name, status or type."),
        Binding("enter", "detail", "Detail", show=True,
                tooltip="Open the selected node's detail: lineage, columns and tests, history, compiled SQL."),
        Binding("l", "toggle_log", "Log", show=False, tooltip="Show or hide the log pane."),
        Binding("escape", "clear_filter", "Clear filter", show=False, key_display="esc", tooltip="Clear the filter."),
    ]

    def compose(self) -> ComposeResult:
        yield CockpitHeader(id="header")
        yield ErrorBar(id="error-bar")
        yield RunProgress(id="progress")
        yield RunTable(id="run-table")

    def on_mount(self) -> None:
        app = self.app
        app.view_changed.subscribe(self, self._on_view_changed)
        app.error_changed.subscribe(self, self.query_one(ErrorBar).show_error)
        app.setup_progress.subscribe(self, lambda p: self.query_one(RunProgress).show_step(*p))
        self.set_interval(TICK_S, self._tick)
        if app.view is None:  # the app reads the project right after the first frame
            self.query_one(RunProgress).show_step("reading the project and its run history…", None)
        self._on_view_changed(None)
        self.query_one(ErrorBar).show_error(app.last_error)
        self.query_one(RunTable).focus()

    def mount_the_rest(self) -> None:
        """The app calls this after the first frame: the filter field (hidden), the log pane and
        the footer, about a third of the screen's CPU before its first frame (the Footer restyles
        once per key it shows)."""
        if not self.is_attached:  # the app quit before its first frame was up
            return
        table = self.query_one(RunTable)
        self.mount(Input(placeholder="filter nodes by name, status or type (enter to keep, esc to clear)",
                         id="filter"), before=table)
        log_pane = LogPane(id="log-pane")
        self.mount(log_pane, Footer(show_command_palette=False))  # at 80 columns the keys need the line
        self.app.log_written.subscribe(self, log_pane.write_lines)
        self.call_after_refresh(self.refresh_bindings)  # the footer missed the screen's first bindings

    def _on_view_changed(self, uids: set[str] | None) -> None:
        view = self.app.view
        if view is None:
            return
        table = self.query_one(RunTable)
        if uids is None or table.view is not view:
            table.show(view, self.app.labels)
        else:
            table.update_nodes(uids)
        self.query_one(RunProgress).show_run(view)

    def _tick(self) -> None:
        view = self.app.view
        if view is not None and view.in_progress:
            self.query_one(RunTable).tick()
            self.query_one(RunProgress).show_run(view)

    # --- selection ------------------------------------------------------------------------
    def on_run_table_node_highlighted(self, message: RunTable.NodeHighlighted) -> None:
        self.app.selected_uid = message.uid

    def on_run_table_node_chosen(self, message: RunTable.NodeChosen) -> None:
        self.app.selected_uid = message.uid
        self.action_detail()

    def action_detail(self) -> None:
        if self.query_one(RunTable).selected_uid:
            self.app.action_detail()

    # --- filter and log -------------------------------------------------------------------
    # The field and the pane are mounted just after the first frame: a key pressed before then
    # finds none (`query` loops run zero times) instead of failing.
    def action_filter(self) -> None:
        for field in self.query("#filter").results(Input):
            field.add_class("-visible")
            field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.query_one(RunTable).set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one(RunTable).focus()

    def action_clear_filter(self) -> None:
        for field in self.query("#filter").results(Input):
            field.value = ""
            field.remove_class("-visible")
        self.query_one(RunTable).set_filter("")
        self.query_one(RunTable).focus()

    def action_toggle_log(self) -> None:
        for pane in self.query(LogPane):
            pane.collapsed = not pane.collapsed
