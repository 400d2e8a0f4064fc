"""Trends over run history: per-run totals of full builds and the worst regressions, from a `RunView`
or the history store.

Provides `run_totals` (wall time, estimated cost and node count of each full build in a view,
oldest first), `full_builds` (the same from the history store's run records), `trend_gap` (what a
trend still needs, or None), `worst_regressions` (nodes slower than their own median beyond their
noise, see `NodeState.noise_s`) and `why_no_regressions`.

A trend compares like with like: only complete, plain builds of the whole project (no selector, no
full refresh, not cancelled or interrupted) are drawn; a quick rebuild of one model is not a point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from tui.core.run_view import NOISE_FLOOR_S, NOISE_SPREADS, NodeState, RunView

MIN_TREND_RUNS = 3  # fewer points than this draw no line worth reading
UNFINISHED = ("cancelled", "interrupted", "running")


@dataclass(frozen=True)
class RunTotal:
    run_id: str
    started_at: float
    elapsed_s: float
    cost_usd: float
    nodes: int


@dataclass(frozen=True)
class Regression:
    unique_id: str
    name: str
    median_s: float
    now_s: float
    ratio: float
    regressed: bool  # at or past the regression ratio, beyond the node's noise (see tui.core.run_view)


def run_totals(view: RunView) -> list[RunTotal]:
    """Per complete full build in the view: wall time (first start to last finish), summed estimated
    cost, nodes run. Runs with a cancelled node, or that touched under half the nodes of the biggest
    run (quick rebuilds of one model), are left out."""
    spans: dict[str, list] = {}
    for state in view.nodes.values():
        for point in state.past + ([state.current] if state.current else []):
            spans.setdefault(point.run_id, []).append(point)
    totals = [_total(run_id, points) for run_id, points in spans.items()
              if not any(p.status in UNFINISHED for p in points)]
    totals = sorted((t for t in totals if t is not None), key=lambda t: t.started_at)
    biggest = max((t.nodes for t in totals), default=0)
    return [t for t in totals if t.nodes * 2 >= biggest]


def _total(run_id: str, points: list) -> RunTotal | None:
    timed = [p for p in points if p.started_at is not None and p.finished_at is not None]
    if not timed:
        return None
    start = min(p.started_at for p in timed)
    return RunTotal(run_id, start, max(p.finished_at for p in timed) - start,
                    sum(p.cost_usd or 0.0 for p in timed), len(timed))


def full_builds(records: Iterable) -> list[RunTotal]:
    """History run records (`tui.core.history_records.RunRecord`, newest first as the store gives
    them) that are complete plain builds of the whole project, oldest first."""
    kept = [r for r in records if r.command == "build" and r.selector is None and not r.full_refresh
            and r.status not in UNFINISHED and r.elapsed_s is not None]
    return [RunTotal(r.run_id, r.started_at, r.elapsed_s, r.est_cost_usd or 0.0, 0)
            for r in sorted(kept, key=lambda r: r.started_at)]


def trend_gap(points: int) -> str | None:
    """None when `points` runs make a trend; else a short line (it fits a chart at 80 columns)
    saying what is still needed."""
    if points >= MIN_TREND_RUNS:
        return None
    return f"a trend needs {MIN_TREND_RUNS} runs: {points} so far"


def worst_regressions(view: RunView, limit: int = 10) -> list[Regression]:
    """Models, seeds and snapshots slower than their median beyond their own noise, worst ratio first."""
    found = [_regression(s) for s in view.nodes.values() if s.node.resource_type != "test"]
    found = [r for r in found if r is not None]
    return sorted(found, key=lambda r: (-r.ratio, r.name))[:limit]


def why_no_regressions(view: RunView) -> str:
    """One line for an empty regressions list: not enough history, or nothing beyond its noise."""
    timed = [s for s in view.nodes.values() if s.node.resource_type != "test" and s.ratio is not None]
    if not timed:
        return "no regressions to show: each model needs an earlier run to compare with (b builds everything)"
    return (f"no regressions: none of {len(timed)} models ran slower than its median by more than its noise "
            f"({NOISE_FLOOR_S:g} s, or {NOISE_SPREADS:g}× its usual spread)")


def _regression(state: NodeState) -> Regression | None:
    ratio, median, now = state.ratio, state.median_s, state.duration_s
    if ratio is None or median is None or now is None or ratio <= 1 or not state.beyond_noise:
        return None
    return Regression(state.node.unique_id, state.node.name, median, now, ratio, state.regressed)
