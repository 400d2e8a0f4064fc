"""Performance: each model's duration and estimated cost in the latest run against its own median
over earlier runs in history (which models slowed, by how much), plus the run's total.
"""

from __future__ import annotations

import statistics

from tui.core.checks.context import CheckContext
from tui.core.checks.findings import FAIL, PASS, WARN, Finding, status_for

CHECK = "performance"
RAN = ("success", "pass", "warn", "fail", "error")


def performance_findings(ctx: CheckContext) -> list[Finding]:
    if ctx.history is None or ctx.latest_run is None:
        ctx.skip(CHECK, "no run history yet: nothing to compare durations against")
        return []
    runs = int(ctx.config.get("performance.history_runs", 20))
    latest = ctx.latest_run.run_id
    history = ctx.history.node_history(last=runs + 1)
    found = []
    for node in ctx.history.node_results(latest):
        if node.resource_type not in ("model", "snapshot", "seed") or node.duration_s is None:
            continue
        earlier = [r for r in history.get(node.unique_id, []) if r.run_id != latest and r.status in RAN
                   and r.duration_s is not None][-runs:]
        if earlier:
            found.append(_compare(ctx, node, earlier))
    slowed = [f for f in found if f.status != PASS]
    if not found:
        ctx.skip(CHECK, "no earlier run of these models to compare durations with")
        return []
    if not slowed:
        summary = (f"no model slower than {ctx.config.get('performance.warn_ratio', 2.0):g}x its median "
                   f"({len(found)} models compared)" if found else "no earlier run of these models to compare with")
        return [Finding(CHECK, PASS, "run", None, summary, {"compared": len(found), "run_id": latest})]
    return slowed + [_run_total(ctx, found)]


def _compare(ctx: CheckContext, node, earlier) -> Finding:
    median = statistics.median(r.duration_s for r in earlier)
    ratio = node.duration_s / median if median > 0 else 1.0
    status = status_for(ratio, ctx.config.get("performance.warn_ratio", 2.0), ctx.config.get("performance.fail_ratio", 5.0))
    delta = node.duration_s - median
    if delta < ctx.config.get("performance.min_delta_s", 0.5):
        status = PASS  # sub-second jitter is not a regression
    elif status == FAIL and (delta < ctx.config.get("performance.fail_min_delta_s", 5.0)
                             or len(earlier) < ctx.config.get("performance.fail_min_runs", 3)):
        status = WARN  # a few seconds, or too little history, on a shared machine: worth a look, not a failure
    costs = [r.est_cost_usd for r in earlier if r.est_cost_usd is not None]
    evidence = {"duration_s": round(node.duration_s, 3), "median_s": round(median, 3), "ratio": round(ratio, 2),
                "runs_compared": len(earlier), "rows": node.rows,
                "median_rows": statistics.median(r.rows for r in earlier if r.rows is not None) if any(r.rows is not None for r in earlier) else None,
                "est_cost_usd": node.est_cost_usd, "median_est_cost_usd": statistics.median(costs) if costs else None}
    return Finding(f"{CHECK}.duration", status, node.name, None,
                   f"{node.name} took {node.duration_s:.2f}s against a median of {median:.2f}s ({ratio:.1f}x)", evidence)


def _run_total(ctx: CheckContext, found: list[Finding]) -> Finding:
    now = sum(f.evidence["duration_s"] for f in found)
    before = sum(f.evidence["median_s"] for f in found)
    cost_now = sum(f.evidence["est_cost_usd"] or 0 for f in found)
    cost_before = sum(f.evidence["median_est_cost_usd"] or 0 for f in found)
    ratio = now / before if before else 1.0
    return Finding(f"{CHECK}.total", PASS if ratio < ctx.config.get("performance.warn_ratio", 2.0) else WARN, "run", None,
                   f"models took {now:.1f}s in total against a usual {before:.1f}s ({ratio:.1f}x); "
                   f"estimated cost {cost_now:.4f} USD against {cost_before:.4f} (estimates)",
                   {"duration_s": now, "median_s": before, "est_cost_usd": cost_now, "median_est_cost_usd": cost_before})
