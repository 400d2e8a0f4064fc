"""Query plans: EXPLAIN ANALYZE of a model's compiled SQL now, against the plan stored for the
baseline run. Operators are matched by name and order; the finding points at the operator whose row
count exploded, or at a join that now multiplies its input. Plans are DuckDB's JSON profile
(2.x keys: `operator[]` with `name`, `timing`, `intermediate_rows`, `extra_info`, `children`).
"""

from __future__ import annotations

import json
import threading
from typing import Any

import duckdb

from tui.core.checks.context import CheckContext
from tui.core.checks.findings import FAIL, PASS, WARN, Finding
from tui.core.checks.sql import WarehouseError

CHECK = "plans"
SKIP = {"RESULT_COLLECTOR", "EXPLAIN_ANALYZE", "QUERY"}


def flatten(plan: dict[str, Any]) -> list[dict[str, Any]]:
    """Operators in pre-order: name, depth, rows out, largest child's rows, seconds, estimated rows."""
    found: list[dict[str, Any]] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        children = node.get("children", [])
        name = node.get("name") or node.get("operator_name") or "?"
        if name.strip().upper() not in SKIP:
            extra = node.get("extra_info") or {}
            found.append({"name": name.strip(), "depth": depth, "rows": int(node.get("intermediate_rows") or node.get("operator_cardinality") or 0),
                          "input_rows": max((int(c.get("intermediate_rows") or 0) for c in children), default=0),
                          "seconds": float(node.get("timing") or node.get("operator_timing") or 0.0),
                          "estimated": str(extra.get("Estimated Cardinality", "")) if isinstance(extra, dict) else ""})
            depth += 1
        for child in children:
            walk(child, depth)

    roots = plan.get("operator") if isinstance(plan.get("operator"), list) else plan.get("children", [])
    for root in roots:
        walk(root, 0)
    return found


def explain(ctx: CheckContext, sql: str, label: str) -> list[dict[str, Any]]:
    timer = threading.Timer(float(ctx.config.get("plans.timeout_s", 120)), ctx.runner.interrupt)
    timer.start()
    try:
        rows = ctx.runner.rows(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql.strip().rstrip(';')}", label)
    finally:
        timer.cancel()
    text = next((v for v in rows[0].values() if isinstance(v, str) and v.lstrip().startswith("{")), "{}") if rows else "{}"
    return flatten(json.loads(text))


def suspects(ctx: CheckContext) -> list[str]:
    """Models worth a plan: those earlier steps flagged (slower, fan-out), else the slowest of the run."""
    limit = int(ctx.config.get("plans.max_models", 4))
    flagged = [f.object for f in ctx.findings if f.status != PASS and f.check.split(".")[0] in ("performance", "keys")
               and ctx.project.find(f.object) is not None]
    if ctx.history is not None and ctx.latest_run is not None:
        slow = sorted((n for n in ctx.history.node_results(ctx.latest_run.run_id) if n.resource_type == "model"),
                      key=lambda n: -(n.duration_s or 0))
        flagged += [n.name for n in slow]
    flagged += list(ctx.baseline.facts.get("plans", {}))
    ordered = list(dict.fromkeys(flagged))
    return [name for name in ordered if ctx.project.find(name) is not None][:limit]


def plan_findings(ctx: CheckContext) -> list[Finding]:
    found, stored = [], ctx.facts.setdefault("plans", {})
    for name in suspects(ctx):
        ctx.check_cancelled()
        node = ctx.project.find(name)
        sql = ctx.project.compiled_sql(node.unique_id)
        if not sql:
            continue
        try:
            operators = explain(ctx, sql, f"plan of {name}")
        except (duckdb.Error, WarehouseError) as error:
            found.append(Finding(CHECK, WARN, name, None, f"could not explain {name}: {str(error).splitlines()[0]}", {}))
            continue
        stored[name] = operators
        before = ctx.baseline.facts.get("plans", {}).get(name)
        found.append(compare_plans(name, operators, before, ctx) if before else first_plan(name, operators, ctx))
    if not found:
        ctx.skip(CHECK, "no model to explain (no compiled SQL yet)")
    return found


def _keyed(operators: list[dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    seen: dict[str, int] = {}
    keyed = {}
    for op in operators:
        seen[op["name"]] = seen.get(op["name"], -1) + 1
        keyed[(op["name"], seen[op["name"]])] = op
    return keyed


def first_plan(name: str, now: list[dict], ctx: CheckContext) -> Finding:
    """No baseline plan: record it; if an earlier step saw this model fan out, name its widest join."""
    total = sum(op["seconds"] for op in now)
    joins = [(op["rows"] / op["input_rows"], i, op) for i, op in enumerate(now)
             if "JOIN" in op["name"].upper() and op["input_rows"]]
    fanned = any(f.object == name and f.check == "keys.fan_out" and f.status != PASS for f in ctx.findings)
    evidence: dict[str, Any] = {"operators": len(now), "seconds": round(total, 4)}
    if joins:
        amp, index, op = max(joins, key=lambda j: (j[0], -j[1]))
        evidence.update(operator=f"{op['name']} (operator {index + 1})", rows=op["rows"], input_rows=op["input_rows"],
                        rows_per_input=round(amp, 4))
        if fanned and amp > 1.0:
            return Finding(f"{CHECK}.join", WARN, name, None,
                           f"{op['name']} (operator {index + 1}) in {name} outputs {amp:.3f} rows per input row "
                           f"({op['rows']:,} from {op['input_rows']:,}): the join behind the fan-out", evidence)
    return Finding(CHECK, PASS, name, None, f"plan of {name} recorded ({len(now)} operators, {total:.3f}s); "
                   "no baseline plan to compare yet", evidence)


def compare_plans(name: str, now: list[dict], before: list[dict] | None, ctx: CheckContext) -> Finding:
    total = sum(op["seconds"] for op in now)
    heaviest = max(now, key=lambda op: op["rows"], default=None)
    evidence: dict[str, Any] = {"operators": len(now), "seconds": round(total, 4),
                                "heaviest": heaviest and {k: heaviest[k] for k in ("name", "rows", "seconds")}}
    old = _keyed(before)
    joins, growth = [], []
    for key, op in _keyed(now).items():
        prior = old.get(key)
        if prior is None:
            continue
        growth.append((op["rows"] / max(prior["rows"], 1), key, op, prior))
        if "JOIN" in op["name"].upper() and prior["input_rows"] and op["input_rows"]:
            amp_now, amp_before = op["rows"] / op["input_rows"], prior["rows"] / prior["input_rows"]
            if amp_before <= 1.0 < amp_now:
                joins.append((amp_now, key, op, amp_before))
    before_total = sum(op["seconds"] for op in before)
    evidence["baseline_seconds"] = round(before_total, 4)
    if joins:
        amp, key, op, amp_before = max(joins, key=lambda j: j[0])
        evidence.update(operator=f"{key[0]} #{key[1] + 1}", rows=op["rows"], input_rows=op["input_rows"],
                        rows_per_input=round(amp, 4), baseline_rows_per_input=round(amp_before, 4))
        return Finding(f"{CHECK}.join", FAIL, name, None,
                       f"{key[0]} #{key[1] + 1} in {name} now outputs {amp:.3f} rows per input row (baseline {amp_before:.3f}): "
                       f"{op['rows']:,} rows from {op['input_rows']:,}", evidence)
    ratio, key, op, prior = max(growth, key=lambda g: g[0], default=(1.0, ("-", 0), {}, {}))
    evidence.update(operator=f"{key[0]} #{key[1] + 1}", rows=op.get("rows"), baseline_rows=prior.get("rows"),
                    rows_ratio=round(ratio, 3))
    slow = before_total > 0 and total / before_total >= ctx.config.get("performance.warn_ratio", 2.0) and total - before_total > 0.5
    status = WARN if ratio >= ctx.config.get("plans.explode_ratio", 10.0) or slow else PASS
    return Finding(f"{CHECK}.cardinality", status, name, None,
                   f"largest change in {name}: {key[0]} #{key[1] + 1} {prior.get('rows', 0):,} -> {op.get('rows', 0):,} rows "
                   f"({ratio:.1f}x); plan {before_total:.3f}s -> {total:.3f}s", evidence)
