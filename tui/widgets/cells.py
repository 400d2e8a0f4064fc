"""Formatting of run values for table cells: status badges, durations, ratios, row counts.

A `Cell` is plain text with one style and an alignment: the run table draws it straight into
segments (no Rich layout per cell), and `as_text` gives a Rich `Text` for other widgets.
Named colours read well on light and dark themes.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from rich.style import Style
from rich.text import Text

from tui.core.run_view import REGRESSION_RATIO, RUNNING, NodeState, sparkline

# Mid-tone colours that read on the light and the dark theme alike (named ANSI yellow or
# green wash out on a light background).
OK, WARN, BAD, UP, STOP, TREND = "#2e9e4f", "#d08000", "#d03838", "#1a8fa8", "#a048b0", "#3a78c8"

STATUS_BADGES = {
    "success": ("✓ ok", OK),
    "pass": ("✓ pass", OK),
    "warn": ("! warn", WARN),
    "fail": ("✗ fail", "bold " + BAD),
    "error": ("✗ error", "bold " + BAD),
    "runtime error": ("✗ error", "bold " + BAD),
    "skipped": ("↷ skip", "dim"),
    "cancelled": ("■ stop", STOP),
    "interrupted": ("■ stop", STOP),
    RUNNING: ("● run", "bold " + WARN),
}


AGE_BADGES = {"waiting": ("… wait", "…"), "not_run": ("↷ skip", "↷")}  # see RunView.result_age


class Cell(NamedTuple):
    text: str
    style: str = ""
    right: bool = False  # right-aligned (numbers)


@lru_cache(maxsize=256)
def style_of(name: str) -> Style:
    return Style.parse(name) if name else Style()


def as_text(cell: Cell) -> Text:
    return Text(cell.text, style=cell.style, justify="right" if cell.right else "left")


def status_cell(status: str | None, compact: bool = False) -> Cell:
    """`✓ ok`, `✗ error`…; only the symbol when compact (narrow terminals)."""
    if status is None:
        return Cell("·" if compact else "· —", "dim")
    label, style = STATUS_BADGES.get(status, (status[:7], ""))
    return Cell(label.split(" ")[0] if compact else label, style)


def aged_status_cell(status: str | None, age: str, compact: bool = False) -> Cell:
    """The status of a node this run has not run (yet): waiting or skipped in a full build, or its
    last result, dimmed and marked `last`, when the run did not select it."""
    if age in AGE_BADGES:
        wide, narrow = AGE_BADGES[age]
        return Cell(narrow if compact else wide, "dim")
    shown = status_cell(status, compact=True).text
    return Cell(shown if compact else f"{shown} last", "dim italic")


def seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 10:
        return f"{value:.2f}s"
    if value < 120:
        return f"{value:.1f}s"
    return f"{int(value // 60)}m{int(value % 60):02d}"


def time_cell(state: NodeState, now: float) -> Cell:
    elapsed = state.elapsed(now)
    if elapsed is not None:
        return Cell(seconds(elapsed) + "…", WARN, True)
    return Cell(seconds(state.duration_s), "", True)


def median_cell(state: NodeState) -> Cell:
    return Cell(seconds(state.median_s), "dim", True)


def ratio_style(state: NodeState) -> str:
    """One colour scale for a node's time against its median, everywhere: dim within the node's
    noise (see `NodeState.noise_s`), else red from the regression ratio, orange slower, green faster."""
    ratio = state.ratio
    if ratio is None or not state.beyond_noise:
        return "dim"
    if ratio >= REGRESSION_RATIO:
        return "bold white on " + BAD
    return WARN if ratio > 1 else OK


def ratio_cell(state: NodeState) -> Cell:
    ratio = state.ratio
    if ratio is None:
        return Cell("")
    return Cell(f"×{ratio:.1f}", ratio_style(state), True)


def count(value: int | float | None, short: bool = False) -> str:
    """`1,234`, `12.3k`, `4.5M`; `short` (a cell with a badge) uses k from 1,000 on."""
    if value is None:
        return ""
    value = float(value)
    for threshold, unit, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e3 if short else 1e4, 1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / unit:.1f}{suffix}"
    return f"{int(value):,}"


def rows_cell(state: NodeState) -> Cell:
    if state.node.resource_type == "test":
        failures = state.current.failures if state.current else None
        return Cell("" if not failures else f"{count(failures)} bad", BAD, True)
    return Cell(count(state.rows), "", True)


def delta_rows_cell(state: NodeState) -> Cell:
    delta = state.delta_rows
    if delta is None:
        return Cell("")
    if state.fan_out is not None:  # rows growing faster than the parents': as loud as a slow node
        return Cell(f"⇈+{count(abs(delta), short=True)}", "bold white on " + BAD, True)
    if delta == 0:
        return Cell("0", "dim", True)
    sign = "+" if delta > 0 else "−"
    return Cell(sign + count(abs(delta)), UP if delta > 0 else STOP, True)


def spark_cell(state: NodeState, attribute: str, width: int) -> Cell:
    return Cell(sparkline(state.series(attribute, width), width), TREND)
