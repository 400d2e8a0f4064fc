"""A Gantt chart of one run: a row per node in start order, its bar placed in time, coloured by thread.

Like dbt Cloud's model timing chart, but live: bars of running nodes grow until they finish.
`spans` are handed down by the screen; the chart lays itself out at its current width.
"""

from __future__ import annotations

import time
from dataclasses import replace

from rich.text import Text
from textual.widget import Widget

from tui.core.run_view import RUNNING, Span
from tui.widgets.cells import BAD, OK, STOP, TREND, UP, WARN, seconds

THREAD_COLOURS = [UP, STOP, OK, TREND, WARN, "#6a8f20", "#c05080", "#4060a0"]
NAME_MIN, NAME_MAX, THREAD_W, TIME_W = 24, 48, 5, 7


def name_width(width: int, names: list[str]) -> int:
    """Room for node names: the longest name, within a quarter of the width, never under NAME_MIN."""
    longest = max((len(n) for n in names), default=NAME_MIN)
    return max(NAME_MIN, min(longest, NAME_MAX, width // 4))


def short_thread(thread: str) -> str:
    """`Thread-3 (worker)` → `T3`; dbt names its threads Thread-N."""
    digits = "".join(ch for ch in thread.split(" ")[0] if ch.isdigit())
    return f"T{digits}" if digits else thread[:THREAD_W]


class Gantt(Widget):
    DEFAULT_CSS = "Gantt { height: auto; }"

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.spans: list[Span] = []

    def show(self, spans: list[Span], labels: dict[str, str] | None = None) -> None:
        labels = labels or {}
        self.spans = sorted((replace(s, name=labels.get(s.unique_id, s.name)) for s in spans),
                            key=lambda s: (s.start, s.name))
        self.styles.height = len(self.spans) + 2
        self.refresh(layout=True)

    def render(self) -> Text:
        if not self.spans:
            return Text("No run yet: press b to build, and watch the threads work here.", style="dim")
        now = time.time()
        start = min(s.start for s in self.spans)
        end = max((s.end or now) for s in self.spans)
        total = max(end - start, 1e-6)
        name_w = name_width(self.size.width, [s.name for s in self.spans])
        bar_w = max(10, self.size.width - name_w - THREAD_W - TIME_W - 3)
        threads = sorted({s.thread for s in self.spans})
        colour = {t: THREAD_COLOURS[i % len(THREAD_COLOURS)] for i, t in enumerate(threads)}
        text = Text(no_wrap=True)
        text.append(self._axis(name_w, bar_w, total) + "\n", style="dim")
        for span in self.spans:
            text.append_text(self._row(span, start, total, (name_w, bar_w), colour[span.thread], now))
            text.append("\n")
        legend = "  ".join(f"{short_thread(t)}" for t in threads)
        text.append(f"{len(threads)} threads: {legend}   total {seconds(total)}", style="dim")
        return text

    @staticmethod
    def _axis(name_w: int, bar_w: int, total: float) -> str:
        label = f"0s{'':>{bar_w - 2 - len(seconds(total))}}{seconds(total)}"
        return f"{'node':<{name_w}} {'thr':<{THREAD_W}} {'time':>{TIME_W}} {label}"

    @staticmethod
    def _row(span: Span, start: float, total: float, widths: tuple[int, int], colour: str, now: float) -> Text:
        name_w, bar_w = widths
        end = span.end if span.end is not None else now
        left = int((span.start - start) / total * bar_w)
        width = max(1, round((end - span.start) / total * bar_w))
        width = min(width, bar_w - left) if left < bar_w else 1
        style = "bold " + BAD if span.status in ("error", "fail") else colour
        name = span.name if len(span.name) <= name_w else span.name[: name_w - 1] + "…"
        row = Text(f"{name:<{name_w}} {short_thread(span.thread):<{THREAD_W}} ")
        row.append(f"{seconds(end - span.start):>{TIME_W}} ", style=WARN if span.status == RUNNING else "")
        row.append(" " * left)
        row.append(("▒" if span.status == RUNNING else "█") * width, style=style)
        return row
