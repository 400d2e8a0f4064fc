"""A small line chart of one value over time (x = when each run finished), drawn with plotext.

Each chart owns its own `Plot` (never the global plotext module), so charts redraw independently.
Counts get whole-number ticks (`162k`, never `162483.0`); the x axis shows dates or clock times.
"""

from __future__ import annotations

import time

from textual_plotext import PlotextPlot

from tui.core.trends import trend_gap
from tui.widgets.cells import count, seconds

MARKER = "braille"
TICKS = 4  # on the time axis
VALUE_TICKS = 3  # min, middle, max: three labels fit the smallest chart, so plotext never drops one


def time_labels(stamps: list[float]) -> tuple[list[float], list[str]]:
    """Up to TICKS x ticks evenly spread in time: `HH:MM:SS` within an hour, `HH:MM` within a day,
    else `MM-DD`."""
    if not stamps:
        return [], []
    first, span = stamps[0], stamps[-1] - stamps[0]
    chosen = sorted({first + span * i / (TICKS - 1) for i in range(TICKS)}) if span else [first]
    fmt = "%H:%M:%S" if span < 3600 else "%H:%M" if span < 86400 else "%m-%d"
    return chosen, [time.strftime(fmt, time.localtime(at)) for at in chosen]


def value_labels(values: list[float], unit: str) -> tuple[list[float], list[str]]:
    """Readable y ticks: whole numbers for counts, seconds or dollars otherwise."""
    low, high = min(values), max(values)
    if high - low < 1e-9:
        ticks = [low]
    else:
        ticks = [low + (high - low) * i / (VALUE_TICKS - 1) for i in range(VALUE_TICKS)]
    if unit == "rows":
        ticks = sorted({float(round(t)) for t in ticks})
        return ticks, [count(int(t)) for t in ticks]
    if unit == "s":
        return ticks, [seconds(t) for t in ticks]
    return ticks, [f"${t:.4f}" if high < 0.01 else f"${t:.2f}" for t in ticks]


class RunChart(PlotextPlot):
    DEFAULT_CSS = "RunChart { height: 1fr; min-height: 6; }"
    shown: tuple[str, list[float]] = ("", [])

    def show(self, title: str, points: list[tuple[float | None, float]], unit: str = "s") -> None:
        """Plot (finished at, value) points; with too few of them, say what a trend still needs."""
        values = [v for _, v in points]
        self.shown = (title, values)  # what the chart plots, for tests and debugging
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title)
        gap = trend_gap(len(values))
        if gap:
            plt.xlim(0, 1)
            plt.ylim(0, 1)
            plt.xticks([])
            plt.yticks([])
            plt.text(gap, 0.5, 0.5, alignment="center")
        else:
            stamps = [at if at is not None else float(i) for i, (at, _) in enumerate(points)]
            plt.plot(stamps, values, marker=MARKER)
            plt.xticks(*time_labels(stamps))
            plt.yticks(*value_labels(values, unit))
        self.refresh()
