"""Declarative rules from `checks/rules/*.yml` (business rules and integrity beyond foreign keys).

A rule is SQL that may use `{{ ref('model') }}`, `{{ source('src', 'table') }}` and `{{ param }}`
(from its `params`). Two kinds:

- `count` (default): the query returns `failing` and optionally `total`, optionally per `delivery`
  (the feed file). Thresholds: `warn_count_above` / `fail_count_above` on failing rows,
  `warn_share` / `fail_share` on failing / total, `warn_increase_pp` / `fail_increase_pp` on the
  share against the earlier deliveries or the baseline.
- `groups`: the query returns `key` and `value` (e.g. total claims per company); values are kept
  as the next baseline; `warn_drop_share` / `fail_drop_share` flag a key whose value fell that much.

A rule whose model or source is missing from the project is no finding: it is listed as skipped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui.core.checks.config import ChecksConfig, ConfigError, read_yaml
from tui.core.checks.context import CheckContext
from tui.core.checks.findings import FAIL, PASS, WARN, Finding
from tui.core.checks.refs import UnknownReference, render


@dataclass(frozen=True)
class Rule:
    id: str
    family: str  # business or integrity
    title: str
    sql: str
    object: str
    column: str | None = None
    kind: str = "count"
    params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    thresholds: dict[str, float] = field(default_factory=dict, hash=False, compare=False)


THRESHOLD_KEYS = ("warn_count_above", "fail_count_above", "warn_share", "fail_share", "warn_increase_pp",
                  "fail_increase_pp", "warn_drop_share", "fail_drop_share", "min_value")


def load_rules(config: ChecksConfig) -> list[Rule]:
    rules: dict[str, Rule] = {}
    for path in config.files("rules/*.yml"):
        for raw in (read_yaml(path) or {}).get("rules", []):
            raw = {**raw, **(config.get(f"rules.{raw.get('id')}") or {})}  # thresholds.yml overrides
            try:
                rule = Rule(raw["id"], raw.get("family", "business"), raw.get("title", raw["id"]), raw["sql"],
                            raw["object"], raw.get("column"), raw.get("kind", "count"), raw.get("params", {}),
                            {k: float(raw[k]) for k in THRESHOLD_KEYS if k in raw})
            except (KeyError, TypeError, ValueError) as error:
                raise ConfigError(f"{path}: rule {raw.get('id', '?')} lacks or mistypes {error}") from error
            rules[rule.id] = rule  # a later folder overrides a rule with the same id
    return list(rules.values())


def rule_findings(ctx: CheckContext, family: str) -> list[Finding]:
    found = []
    for rule in (r for r in load_rules(ctx.config) if r.family == family):
        ctx.check_cancelled()
        try:
            sql = render(rule.sql, ctx.project, rule.params)
        except UnknownReference as error:
            ctx.skip(f"{family}.{rule.id}", f"not applicable: {error}")
            continue
        rows = ctx.runner.rows(sql, f"rule {rule.id}")
        found.append(evaluate_groups(ctx, rule, rows) if rule.kind == "groups" else evaluate_count(ctx, rule, rows))
    return found


def evaluate_count(ctx: CheckContext, rule: Rule, rows: list[dict[str, Any]]) -> Finding:
    current, reference, label = _split(ctx, rule, rows)
    failing, total = current
    share = failing / total if total else None
    ref_share = reference[0] / reference[1] if reference and reference[1] else None
    baseline = ctx.baseline.facts.get("rules", {}).get(rule.id)
    if ref_share is None and baseline and baseline.get("total"):
        ref_share, label = baseline["failing"] / baseline["total"], "vs baseline"
    ctx.facts.setdefault("rules", {})[rule.id] = {"failing": failing, "total": total}
    status = _count_status(rule.thresholds, failing, share, ref_share)
    share_text = f" ({share:.2%} of {total:,})" if share is not None else ""
    before = f"; {ref_share:.2%} {label}" if ref_share is not None else ""
    return Finding(f"{rule.family}.{rule.id}", status, rule.object, rule.column,
                   f"{rule.title}: {failing:,} rows break it{share_text}{before}",
                   {"failing": failing, "total": total, "share": share, "reference_share": ref_share, "compared": label})


def _split(ctx: CheckContext, rule: Rule, rows: list[dict[str, Any]]) -> tuple[tuple[int, int], tuple[int, int] | None, str]:
    """(failing, total) of the newest delivery and of the earlier ones when the rule groups by delivery."""
    def pair(group: list[dict]) -> tuple[int, int]:
        return (sum(int(r.get("failing") or 0) for r in group), sum(int(r.get("total") or 0) for r in group))

    if not rows or "delivery" not in rows[0] or len(rows) < 2:
        return pair(rows), None, "overall"
    profile = ctx.profiles().get(rule.object) if ctx.project.find(rule.object) else None
    files = sorted(str(r["delivery"]) for r in rows if r["delivery"] is not None)
    newest = profile.newest if profile and profile.newest in files else (files[-1] if files else None)
    now = [r for r in rows if str(r["delivery"]) == newest]
    return pair(now), pair([r for r in rows if str(r["delivery"]) != newest]), "in earlier deliveries"


def _count_status(t: dict[str, float], failing: int, share: float | None, ref_share: float | None) -> str:
    def over(key: str, value: float | None) -> bool:
        return key in t and value is not None and value > t[key]

    increase = (share - ref_share) * 100 if share is not None and ref_share is not None else None
    if over("fail_count_above", failing) or over("fail_share", share) or over("fail_increase_pp", increase):
        return FAIL
    if over("warn_count_above", failing) or over("warn_share", share) or over("warn_increase_pp", increase):
        return WARN
    return PASS


def evaluate_groups(ctx: CheckContext, rule: Rule, rows: list[dict[str, Any]]) -> Finding:
    values = {str(r["key"]): float(r["value"] or 0) for r in rows}
    ctx.facts.setdefault("rules", {})[rule.id] = {"values": values}
    before = (ctx.baseline.facts.get("rules", {}).get(rule.id) or {}).get("values")
    if not before:
        return Finding(f"{rule.family}.{rule.id}", PASS, rule.object, rule.column,
                       f"{rule.title}: {len(values)} groups recorded as the baseline", {"groups": len(values)})
    floor = rule.thresholds.get("min_value", 0.0)
    drops = {k: (v - values.get(k, 0.0)) / v for k, v in before.items() if v > floor and values.get(k, 0.0) < v}
    worst = max(drops.values(), default=0.0)
    status = FAIL if worst > rule.thresholds.get("fail_drop_share", 1.0) else \
        WARN if worst > rule.thresholds.get("warn_drop_share", 1.0) else PASS
    flagged = sorted((k for k, d in drops.items() if d > rule.thresholds.get("warn_drop_share", 1.0)), key=lambda k: -drops[k])
    summary = (f"{rule.title}: {len(flagged)} of {len(before)} groups dropped, worst by {worst:.0%}" if flagged
               else f"{rule.title}: no group dropped beyond {rule.thresholds.get('warn_drop_share', 1.0):.0%} against the baseline")
    return Finding(f"{rule.family}.{rule.id}", status, rule.object, rule.column, summary,
                   {"groups": len(before), "dropped": len(flagged), "worst_drop": worst,
                    "worst_groups": {k: round(drops[k], 4) for k in flagged[:10]}})
