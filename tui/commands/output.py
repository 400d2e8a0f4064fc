"""Plain-text output helpers shared by the headless commands: seconds, changes, progress lines.

Provides `seconds`, `change_vs_median`, `ProgressPrinter` (turns run events into one line per
finished node: index, status, name, duration and its change against that node's median in
history, rows, estimated cost) and `fail(message, code)` (one line on stderr, then exit).
Data goes to stdout, diagnostics (warnings, errors, first-start progress) to stderr.
"""

from __future__ import annotations

import sys
from typing import Any, NoReturn, TextIO

import typer

from tui.core import errors
from tui.core.costs import format_cost
from tui.core.run_events import NodeFinished, NodesPlanned, RunFinished, RunStarted, Warned
from tui.core.history import node_duration

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
STATUS_WORDS = {"success": "OK", "pass": "PASS", "warn": "WARN", "fail": "FAIL", "error": "ERROR",
                "skipped": "SKIP", "cancelled": "CANCEL"}


def diag(message: str) -> None:
    typer.echo(message, err=True)


def fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    diag(f"error: {message}")
    raise typer.Exit(code)


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}s" if value < 60 else f"{int(value // 60)}m{value % 60:04.1f}s"


def change_vs_median(now: float | None, median: float | None) -> str:
    """`+25% vs 0.40s`, `new` without history."""
    if now is None:
        return ""
    if not median:
        return "new"
    return f"{(now - median) / median:+.0%} vs {seconds(median)}"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


class ProgressPrinter:
    """Prints a line per finished node as events arrive (called from dbt's threads)."""

    def __init__(self, medians: dict[str, float], out: TextIO | None = None):
        self.medians = medians
        self.out = out or sys.stdout
        self.total = 0
        self.done = 0
        self.counts: dict[str, int] = {}
        self.cost = 0.0

    def __call__(self, event: Any) -> None:
        if isinstance(event, RunStarted):
            what = f" --select {event.selector}" if event.selector else ""
            diag(f"pipeline-tui {event.command}{what} (run {event.run_id[:8]})")
        elif isinstance(event, NodesPlanned):
            self.total = event.total
        elif isinstance(event, NodeFinished):
            self._node(event)
        elif isinstance(event, Warned):
            diag(f"warning {event.code}: {event.message.splitlines()[0]}")
        elif isinstance(event, RunFinished):
            self._summary(event)

    def _node(self, event: NodeFinished) -> None:
        self.done += 1
        self.counts[event.status] = self.counts.get(event.status, 0) + 1
        self.cost += event.est_cost_usd or 0.0
        duration = node_duration(event)
        width = len(str(self.total or self.done))
        parts = [f"{self.done:>{width}}/{self.total or '?'}", f"{STATUS_WORDS.get(event.status, event.status.upper()):<6}",
                 f"{_fit(event.name, 40):<40}", f"{seconds(duration):>7}",
                 f"{change_vs_median(duration, self.medians.get(event.unique_id)):<18}"]
        if event.rows is not None:
            parts.append(f"{event.rows:>10,} rows")
        if event.failures:
            parts.append(f"{event.failures:,} failing rows")
        if event.est_cost_usd is not None and event.resource_type != "test":
            parts.append(format_cost(event.est_cost_usd))
        print("  ".join(parts).rstrip(), file=self.out, flush=True)
        if event.status in ("error", "fail") and event.message and not event.message.startswith("Status:"):
            # one translated line; dbt's own multi-line text stays in its log file
            diag(f"    {errors.translate(event.message) if event.status == 'error' else event.message.strip().splitlines()[0]}")

    def _summary(self, event: RunFinished) -> None:
        counts = ", ".join(f"{n} {STATUS_WORDS.get(s, s).lower()}" for s, n in sorted(self.counts.items()))
        print(f"{event.status.upper()}: {counts or 'no nodes'} in {seconds(event.elapsed_s)}"
              f" · {format_cost(self.cost)} (at the configured rate)", file=self.out, flush=True)
        if event.error and event.status != "cancelled":
            diag(f"error: {event.error}")
