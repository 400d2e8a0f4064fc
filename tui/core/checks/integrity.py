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
    """Rejected lines per feed, file and reason, judged against the baseline's count. When the rejects
    table names the feed (a `feed` column matching a source's table), the finding is on that source."""
    found = []
    for spec, reason in reject_tables(ctx):
        feed = quote(spec.column("feed").name) if spec.column("feed") else "NULL"
        rows = ctx.runner.rows(f"SELECT {feed} AS feed, {quote(spec.delivery_column)} AS file, {quote(reason)} AS reason, "
                               f"count(*) AS n FROM {spec.relation} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
                               f"rejected lines in {spec.object}")
        by_feed: dict[str, list[dict]] = {}
        for row in rows:
            by_feed.setdefault(str(row["feed"]) if row["feed"] is not None else "", []).append(row)
        before = ctx.baseline.facts.get("rejects", {}).get(spec.object) or {}
        facts = ctx.facts.setdefault("rejects", {}).setdefault(spec.object, {})
        for feed_name, feed_rows in sorted(by_feed.items()):
            found.append(_rejects(ctx, spec.object, feed_name, feed_rows, before.get(feed_name)))
            facts[feed_name] = sum(int(r["n"]) for r in feed_rows)
        if not by_feed:
            found.append(Finding(f"{CHECK}.rejects", PASS, spec.object, None, "no feed line rejected", {"rejected": 0}))
    return found


def _rejects(ctx: CheckContext, table: str, feed: str, rows: list[dict], before: int | None) -> Finding:
    reasons: dict[str, int] = {}
    for row in rows:
        reasons[str(row["reason"])] = reasons.get(str(row["reason"]), 0) + int(row["n"])
    total = sum(reasons.values())
    status = PASS if before is not None and total <= before else WARN
    if status == WARN and ctx.config.get("integrity.rejects_status", "warn") == "fail":
        status = FAIL
    source = next((f"{s.get('source_name')}.{s.get('name')}" for s in ctx.project.sources.values() if s.get("name") == feed), None)
    files = sorted({file_label(str(r["file"])) for r in rows})
    summary = (f"{total:,} lines of {feed or table} rejected ({', '.join(f'{r} {n}' for r, n in sorted(reasons.items()))}) "
               f"in {', '.join(files[:3])}" + (f"; {before} at the baseline" if before is not None else ""))
    return Finding(f"{CHECK}.rejects", status, source or table, None, summary,
                   {"rejected": total, "reasons": reasons, "files": files, "baseline_rejected": before, "rejects_table": table})
