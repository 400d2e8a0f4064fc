"""Formatting of run values for table cells: status badges, durations, ratios, row counts.

Rich `Text` with named colours that read well on light and dark themes.
"""

from __future__ import annotations

from rich.text import Text

from tui.core.run_view import RUNNING, NodeState, sparkline

STATUS_BADGES = {
    "success": ("✓ ok", "green"),
    "pass": ("✓ pass", "green"),
    "warn": ("! warn", "yellow"),
    "fail": ("✗ fail", "bold red"),
    "error": ("✗ error", "bold red"),
    "runtime error": ("✗ error", "bold red"),
    "skipped": ("↷ skip", "dim"),
    "cancelled": ("■ stop", "magenta"),
    RUNNING: ("● run", "bold yellow"),
}


def status_cell(status: str | None, compact: bool = False) -> Text:
    """`✓ ok`, `✗ error`…; only the symbol when compact (narrow terminals)."""
    if status is None:
        return Text("·" if compact else "· —", style="dim")
    label, style = STATUS_BADGES.get(status, (status[:7], ""))
    return Text(label.split(" ")[0] if compact else label, style=style)


def seconds(value: float | None) -> str:
    if value is None:
        return ""
    if value < 10:
        return f"{value:.2f}s"
    if value < 120:
        return f"{value:.1f}s"
    return f"{int(value // 60)}m{int(value % 60):02d}"


def time_cell(state: NodeState, now: float) -> Text:
    elapsed = state.elapsed(now)
    if elapsed is not None:
        return Text(seconds(elapsed) + "…", style="yellow", justify="right")
    return Text(seconds(state.duration_s), justify="right")


def ratio_cell(state: NodeState) -> Text:
    ratio = state.ratio
    if ratio is None:
        return Text("")
    label = f"×{ratio:.1f}"
    if state.regressed:
        return Text(label, style="bold white on red", justify="right")
    if ratio >= 1.3:
        return Text(label, style="yellow", justify="right")
    if ratio <= 0.7:
        return Text(label, style="green", justify="right")
    return Text(label, style="dim", justify="right")


def count(value: int | float | None) -> str:
    if value is None:
        return ""
    value = float(value)
    for limit, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.1f}{suffix}"
    return f"{int(value):,}"


def rows_cell(state: NodeState) -> Text:
    if state.node.resource_type == "test":
        failures = state.current.failures if state.current else None
        return Text("" if not failures else f"{count(failures)} bad", style="red", justify="right")
    return Text(count(state.rows), justify="right")


def delta_rows_cell(state: NodeState) -> Text:
    delta = state.delta_rows
    if delta is None:
        return Text("")
    if delta == 0:
        return Text("0", style="dim", justify="right")
    sign = "+" if delta > 0 else "−"
    return Text(sign + count(abs(delta)), style="cyan" if delta > 0 else "magenta", justify="right")


def spark_cell(state: NodeState, attribute: str, width: int) -> Text:
    return Text(sparkline(state.series(attribute), width), style="blue")
