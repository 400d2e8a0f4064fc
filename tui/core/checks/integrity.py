"""Referential integrity: orphan shares of every relationship (per delivery, against earlier ones
and the baseline), rejected feed lines (the newest delivery against earlier ones), and the
declarative integrity rules of `checks/rules/` (e.g. every claim has an active plan for its
employee on its service date).
"""

from __future__ import annotations

import fnmatch

from tui.core.checks.context import CheckContext
from tui.core.checks.findings import FAIL, PASS, WARN, Finding
from tui.core.checks.profile import file_label
from tui.core.checks.refs import referenced_model
from tui.core.checks.rules import Rule, evaluate_count, rule_findings
from tui.core.checks.sql import quote
from tui.core.checks.targets import TableSpec

CHECK = "integrity"
REASON_COLUMNS = ("reject_reason", "reason", "error", "error_type")


def integrity_findings(ctx: CheckContext) -> list[Finding]:
    return orphan_findings(ctx) + reject_findings(ctx) + rule_findings(ctx, "integrity")


def orphan_findings(ctx: CheckContext) -> list[Finding]:
    found = []
    thresholds = {k: float(v) for k, v in ctx.config.get("integrity.orphans", {}).items()}
    for spec in ctx.specs():
        for test in ctx.project.tests_of(spec.unique_id or ""):
            target = referenced_model(str(test.kwargs.get("to"))) if test.test_name == "relationships" else None
            parent = ctx.spec(target) if target else None
            field = test.kwargs.get("field")
            if not parent or not test.column or not field or not spec.column(test.column):
                continue
            ctx.check_cancelled()
            rule = Rule(f"orphans_{spec.object}_{test.column}", CHECK, f"{test.column} without a match in {target}.{field}",
                        "", spec.object, test.column, thresholds=thresholds)
            rows = ctx.runner.rows(orphans_sql(spec, test.column, parent, str(field)), f"orphans {spec.object}.{test.column}")
            finding = evaluate_count(ctx, rule, rows)
            found.append(Finding(f"{CHECK}.orphans", finding.status, finding.object, finding.column, finding.summary,
                                 finding.evidence))
    return found


def orphans_sql(child: TableSpec, column: str, parent: TableSpec, field: str) -> str:
    delivery = f"c.{quote(child.delivery_column)} AS delivery, " if child.delivery_column else ""
    group = " GROUP BY 1" if child.delivery_column else ""
    return (f"SELECT {delivery}count(c.{quote(column)}) AS total, "
            f"count(c.{quote(column)}) FILTER (WHERE p.k IS NULL) AS failing "
            f"FROM {child.relation} c LEFT JOIN (SELECT DISTINCT {quote(field)} AS k FROM {parent.relation}) p "
            f"ON c.{quote(column)} = p.k{group}")


def reject_tables(ctx: CheckContext) -> list[tuple[TableSpec, str]]:
    patterns = ctx.config.get("integrity.rejects_objects", ["*reject*"])
    found = []
    for spec in ctx.specs():
        reason = next((c.name for c in spec.columns if c.name.lower() in REASON_COLUMNS), None)
        if reason and spec.delivery_column and any(fnmatch.fnmatch(spec.object, p) for p in patterns):
            found.append((spec, reason))
    return found


def reject_findings(ctx: CheckContext) -> list[Finding]:
    """Rejected lines per file and reason; the newest file's count is judged, earlier ones are evidence."""
    found = []
    for spec, reason in reject_tables(ctx):
        rows = ctx.runner.rows(f"SELECT {quote(spec.delivery_column)} AS file, {quote(reason)} AS reason, count(*) AS n "
                               f"FROM {spec.relation} GROUP BY 1, 2 ORDER BY 1, 2", f"rejected lines in {spec.object}")
        by_reason: dict[str, int] = {}
        for row in rows:
            by_reason[str(row["reason"])] = by_reason.get(str(row["reason"]), 0) + int(row["n"])
        files = sorted({str(r["file"]) for r in rows})
        total = sum(by_reason.values())
        before = (ctx.baseline.facts.get("rejects", {}).get(spec.object) or {}).get("total")
        ctx.facts.setdefault("rejects", {})[spec.object] = {"total": total, "reasons": by_reason}
        status = PASS if total == 0 or (before is not None and total <= before) else WARN
        if status == WARN and ctx.config.get("integrity.rejects_status", "warn") == "fail":
            status = FAIL
        summary = (f"{total:,} feed lines rejected ({', '.join(f'{r} {n}' for r, n in sorted(by_reason.items()))}) "
                   f"in {len(files)} files" if total else "no feed line rejected")
        found.append(Finding(f"{CHECK}.rejects", status, spec.object, None, summary,
                             {"rejected": total, "reasons": by_reason, "files": [file_label(f) for f in files],
                              "baseline_rejected": before}))
    return found

