"""The Timeline screen: a Gantt chart of the current or last run, by thread, updated live."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui.widgets.gantt import Gantt
from tui.widgets.header import CockpitHeader

TICK_S = 0.25


class TimelineScreen(Screen):
    def compose(self) -> ComposeResult:
        yield CockpitHeader(id="header")
        yield Static("Timeline of the current or last run (1 run table · 3 trends)", classes="screen-title")
        with VerticalScroll(id="timeline"):
            yield Gantt(id="gantt")
        yield Footer()

    def on_mount(self) -> None:
        self.app.view_changed.subscribe(self, lambda _: self.redraw())
        self.set_interval(TICK_S, self._tick)
        self.redraw()

    def on_screen_resume(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        view = self.app.view
        self.query_one(Gantt).show(list(view.spans.values()) if view else [], self.app.labels)

    def _tick(self) -> None:
        view = self.app.view
        if view is not None and view.in_progress:
            self.redraw()
