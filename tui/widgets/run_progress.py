"""Run progress: a bar of nodes done / total and a one-line summary of the invocation."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label, ProgressBar

from tui.core.run_view import RunView
from tui.widgets.cells import seconds


def summary(view: RunView, now: float) -> str:
    run = view.run
    if run is None:
        return "no run yet in this session: b builds everything"
    what = run.command + (f" -s {run.selector}" if run.selector else "") + (" --full-refresh" if run.full_refresh else "")
    if view.finished is None:
        return f"{what} · {view.done}/{view.planned or '?'} nodes · {seconds(now - run.started_at)}"
    status = view.finished.status
    return f"{what} · {status} · {view.done} nodes in {seconds(view.finished.elapsed_s)}"


class RunProgress(Horizontal):
    """Progress bar plus summary; `show_run` redraws from a RunView, `show_step` for set-up steps."""

    def compose(self) -> ComposeResult:
        yield ProgressBar(total=None, show_eta=False, id="run-bar")
        yield Label("", id="run-summary")

    def show_run(self, view: RunView) -> None:
        bar = self.query_one(ProgressBar)
        if view.run is None:
            bar.update(total=1, progress=0)
        elif view.finished is not None:
            bar.update(total=max(view.done, 1), progress=max(view.done, 1))
        else:
            bar.update(total=view.planned or None, progress=view.done)
        self.query_one("#run-summary", Label).update(summary(view, time.time()))

    def show_step(self, step: str, fraction: float | None) -> None:
        bar = self.query_one(ProgressBar)
        bar.update(total=None if fraction is None else 100, progress=0 if fraction is None else fraction * 100)
        self.query_one("#run-summary", Label).update(step)
