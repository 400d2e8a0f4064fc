"""A small line chart of one value over runs (x = run 1..n), drawn with plotext.

Each chart owns its own `Plot` (never the global plotext module), so charts redraw independently.
"""

from __future__ import annotations

from textual_plotext import PlotextPlot

MARKER = "braille"


class RunChart(PlotextPlot):
    DEFAULT_CSS = "RunChart { height: 1fr; min-height: 6; }"
    shown: tuple[str, list[float]] = ("", [])

    def show(self, title: str, values: list[float]) -> None:
        self.shown = (title, list(values))  # what the chart plots, for tests and debugging
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(title if values else f"{title}: no runs yet")
        if values:
            xs = list(range(1, len(values) + 1))
            plt.plot(xs, values, marker=MARKER)
            plt.xticks(xs[:: max(1, len(xs) // 6)])
        self.refresh()
