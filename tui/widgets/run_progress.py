"""Run progress: a bar of nodes done / total and a one-line summary of the invocation.

Drawn as one line of text with a fixed height, and redrawn only when the text changes, so a
flood of run events never triggers a layout pass (a Textual ProgressBar relayouts its labels).
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import Static

from tui.core.run_view import RunView
from tui.widgets.cells import BAD, OK, STOP, WARN, seconds

BAR_WIDTH = 24
NARROW_BAR_WIDTH = 12  # below 100 columns: the summary's end (nodes, time) must stay visible


def summary(view: RunView, now: float) -> str:
    run = view.run
    if run is None:
        return "no run yet in this session: b builds everything"
    what = run.command + (f" -s {run.selector}" if run.selector else "") + (" --full-refresh" if run.full_refresh else "")
    # The outcome first: on a narrow terminal the end of the line is what gets cut.
    if view.finished is None:
        return f"{view.done}/{view.planned or '?'} nodes · {seconds(now - run.started_at)} · {what}"
    return f"{view.finished.status} · {view.done} nodes in {seconds(view.finished.elapsed_s)} · {what}"


ENDED_STYLES = {"success": OK, "cancelled": STOP, "interrupted": STOP}  # any other end: BAD


def bar(fraction: float | None, width: int = BAR_WIDTH, style: str | None = None) -> Text:
    """`━━━━╸────` filled to `fraction`; None draws an indeterminate bar."""
    if fraction is None:
        return Text("╺━╸" + "─" * (width - 3), style=WARN)
    filled = max(0.0, min(1.0, fraction)) * width
    whole = int(filled)
    text = Text("━" * whole, style=style or (OK if fraction >= 1 else WARN))
    if whole < width:
        text.append("╸" if filled - whole >= 0.5 else "─", style=WARN if filled - whole >= 0.5 else "dim")
        text.append("─" * (width - whole - 1), style="dim")
    return text


class RunProgress(Static):
    """`show_run` redraws from a RunView, `show_step` for set-up steps (demo data, first build)."""

    DEFAULT_CSS = "RunProgress { height: 1; padding: 0 1; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._shown = ""
        self._last: tuple[float | None, str, str | None] = (0.0, "", None)

    def _draw(self, fraction: float | None, label: str, style: str | None = None) -> None:
        self._last = (fraction, label, style)
        percent = "" if fraction is None else f"{fraction * 100:3.0f}%"
        width = BAR_WIDTH if self.size.width >= 100 else NARROW_BAR_WIDTH
        key = f"{fraction!r}|{label}|{width}|{style}"
        if key == self._shown:
            return
        self._shown = key
        text = bar(fraction, width, style)
        text.append(f" {percent:>4}  {label}", style="")
        self.update(text, layout=False)

    def on_resize(self) -> None:
        self._draw(*self._last)

    def show_run(self, view: RunView) -> None:
        """A finished run fills the bar only when it ran every planned node, coloured by how it ended
        (a cancelled build never shows a green 100 %)."""
        style = None
        if view.run is None:
            fraction = 0.0
        elif view.finished is not None:
            status = view.finished.status
            fraction = 1.0 if status == "success" or not view.planned else min(1.0, view.done / view.planned)
            style = ENDED_STYLES.get(status, BAD)
        else:
            fraction = view.done / view.planned if view.planned else None
        self._draw(fraction, summary(view, time.time()), style)

    def show_step(self, step: str, fraction: float | None) -> None:
        self._draw(fraction, step)
