"""Trends over run history: per-run totals and the worst regressions, from a `RunView`.

Provides `run_totals` (wall time, estimated cost and node count of each run, oldest first)
and `worst_regressions` (nodes whose latest duration is furthest above their own median).
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.run_view import NodeState, RunView


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
    regressed: bool  # at or past the regression threshold (see tui.core.run_view)


def run_totals(view: RunView, full_builds_only: bool = True) -> list[RunTotal]:
    """Per run: wall time (first start to last finish), summed estimated cost, nodes run.

    With `full_builds_only`, runs that touched under half the nodes of the biggest run
    (quick rebuilds of one model) are left out so the series compares like with like.
    """
    spans: dict[str, list] = {}
    for state in view.nodes.values():
        chain = state.past + ([state.current] if state.current else [])
        for point in chain:
            if point.started_at is not None and point.finished_at is not None:
                spans.setdefault(point.run_id, []).append(point)
    totals = [
        RunTotal(run_id, min(p.started_at for p in points), max(p.finished_at for p in points)
                 - min(p.started_at for p in points), sum(p.cost_usd or 0.0 for p in points), len(points))
        for run_id, points in spans.items()
    ]
    totals.sort(key=lambda t: t.started_at)
    if full_builds_only and totals:
        biggest = max(t.nodes for t in totals)
        totals = [t for t in totals if t.nodes * 2 >= biggest]
    return totals


def worst_regressions(view: RunView, limit: int = 10, min_ratio: float = 1.0) -> list[Regression]:
    """Models, seeds and snapshots whose latest duration is the most above their median."""
    found = [_regression(s) for s in view.nodes.values() if s.node.resource_type != "test"]
    found = [r for r in found if r is not None and r.ratio >= min_ratio]
    return sorted(found, key=lambda r: (-r.ratio, r.name))[:limit]


def _regression(state: NodeState) -> Regression | None:
    ratio, median, now = state.ratio, state.median_s, state.duration_s
    if ratio is None or median is None or now is None:
        return None
    return Regression(state.node.unique_id, state.node.name, median, now, ratio, state.regressed)
