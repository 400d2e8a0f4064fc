"""Causes: the findings that fail or warn, folded into a ranked list of likely causes.

    causes = build_causes(findings, Lineage.from_project(project))   # most likely first

A cause sits on the most upstream object where a defect first appears (findings are taken from the
raw feeds down, by lineage depth); a later finding downstream of a cause, on the same column (by
name through the models) or one its kind explains, folds under it as a symptom with its lineage
path. Ranking: fails before warns, upstream before downstream, then magnitude (share of rows, size
of the change), then how many findings the cause explains. Every failing or warning finding
belongs to exactly one cause.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any, Iterable

from tui.core.checks.causes_text import headline, hint
from tui.core.checks.findings import PASS, STATUSES, Finding
from tui.core.checks.lineage import Lineage

KINDS = ("volume", "duplicate_keys", "fan_out", "type_mismatch", "null_values", "distribution_shift", "date_shift",
         "schema_change", "orphans", "business_rule", "performance", "freshness", "incremental", "test_failure")
_EVERYTHING = frozenset(KINDS)
# The symptoms a defect of a kind can cause downstream (test failures follow from any of them).
EXPLAINS: dict[str, frozenset[str]] = {k: frozenset(v) | {"test_failure", k} for k, v in {
    "volume": ("performance", "incremental"),
    "duplicate_keys": ("fan_out", "volume", "business_rule", "distribution_shift", "date_shift", "orphans", "performance", "incremental"),
    "fan_out": ("volume", "duplicate_keys", "business_rule", "distribution_shift", "performance"),
    "type_mismatch": ("orphans", "null_values", "distribution_shift", "business_rule"),
    "null_values": ("orphans", "distribution_shift", "business_rule"),
    "distribution_shift": ("business_rule",),
    "date_shift": ("distribution_shift", "freshness", "business_rule"),
    "schema_change": tuple(KINDS),
    "orphans": ("null_values", "business_rule"),
    "business_rule": (), "performance": (), "freshness": (), "test_failure": (),
    "incremental": ("volume", "duplicate_keys", "distribution_shift"),
}.items()}
CONTEXT_CHECKS = ("changes.raw_files", "changes.git")
_PREFIX_KINDS = (("drift.date", "date_shift"), ("keys.fan_out", "fan_out"), ("plans.join", "fan_out"), ("keys.", "duplicate_keys"),
                 ("drift.volume", "volume"), ("drift.null_rate", "null_values"), ("drift.type", "type_mismatch"),
                 ("drift.categories", "distribution_shift"), ("drift.distribution", "distribution_shift"),
                 ("integrity.rejects", "type_mismatch"), ("integrity.", "orphans"), ("changes.freshness", "freshness"),
                 ("results.", "test_failure"), ("incremental.", "incremental"), ("performance", "performance"),
                 ("plans.", "performance"), ("contract.", "schema_change"), ("changes.", "schema_change"),
                 ("profile", "schema_change"), ("drift", "distribution_shift"), ("rules", "business_rule"))


@dataclass(frozen=True)
class Symptom:
    finding_id: str
    check: str
    status: str
    object: str
    column: str | None
    summary: str
    path: tuple[str, ...]  # lineage from the cause's object to this one (both included)

    def to_dict(self) -> dict[str, Any]:
        return {"finding_id": self.finding_id, "check": self.check, "status": self.status, "object": self.object,
                "column": self.column, "summary": self.summary, "path": list(self.path)}


@dataclass(frozen=True)
class Cause:
    id: str
    kind: str
    status: str
    object: str
    column: str | None
    summary: str  # one line
    evidence: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    finding_ids: tuple[str, ...] = ()  # every finding it explains, its own first
    symptoms: tuple[Symptom, ...] = ()  # the findings it explains elsewhere (or of another check)
    magnitude: float = 0.0  # 0..1: share of rows affected or size of the change
    depth: int = 0  # lineage depth of the object (raw feeds 0)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "status": self.status, "object": self.object, "column": self.column,
                "summary": self.summary, "evidence": self.evidence, "finding_ids": list(self.finding_ids),
                "symptoms": [s.to_dict() for s in self.symptoms], "magnitude": round(self.magnitude, 4), "depth": self.depth}


def kind_of(finding: Finding) -> str:
    if finding.check == "drift.range":
        dated = "future" in finding.evidence or isinstance(finding.evidence.get("min"), str)
        return "date_shift" if dated else "distribution_shift"
    if finding.check.startswith("business.") or finding.check.startswith("rules."):
        return "business_rule"
    return next((kind for prefix, kind in _PREFIX_KINDS if finding.check.startswith(prefix)), "business_rule")


def magnitude(finding: Finding) -> float:
    """0..1: the share of rows affected, or the size of a change (x-fold as 1 - 1/x)."""
    ev = finding.evidence
    if isinstance(ev.get("null_rate"), (int, float)):
        return _clip(ev["null_rate"] - float(ev.get("reference_null_rate") or 0.0))
    for key in ("share", "orphan_share"):
        if isinstance(ev.get(key), (int, float)):
            return _clip(float(ev[key]) - float(ev.get(f"reference_{key}") or ev.get(f"baseline_{key}") or 0.0))
    for key in ("factor", "ratio", "rows_per_key", "rows_per_input"):
        value = ev.get(key)
        if isinstance(value, (int, float)) and value > 0:
            return _clip(1 - 1 / value if value >= 1 else 1 - value)
    # a count of bad rows without a total: above a finding with no number at all (an age, a plan)
    return 0.001 if any(ev.get(k) for k in ("rejected", "duplicated_keys", "failing", "nonconforming", "orphans")) else 0.0


def _clip(value: float) -> float:
    return max(0.0, min(1.0, float(value)))


@dataclass
class _Group:
    root: Finding
    kind: str
    depth: int
    members: list[tuple[Finding, tuple[str, ...]]] = field(default_factory=list)

    def status(self) -> str:
        return STATUSES[max(f.rank for f, _ in self.members)]

    def rank_key(self) -> tuple:
        return (-STATUSES.index(self.status()), self.depth, -magnitude(self.root), -len(self.members),
                self.root.object, self.root.column or "", self.root.check)


def build_causes(findings: Iterable[Finding], lineage: Lineage | None = None) -> list[Cause]:
    """Every failing or warning finding in exactly one cause; causes most likely first."""
    lineage = lineage or Lineage.empty()
    bad = [f for f in findings if f.status != PASS]
    context = [f for f in bad if f.check in CONTEXT_CHECKS]
    order = sorted((f for f in bad if f.check not in CONTEXT_CHECKS),
                   key=lambda f: (lineage.depth(f.object), -f.rank, -magnitude(f), f.check, f.object, f.column or ""))
    groups: list[_Group] = []
    for finding in order:
        group = _best_group(finding, groups, lineage)
        if group is None:
            groups.append(_Group(finding, kind_of(finding), lineage.depth(finding.object), [(finding, (finding.object,))]))
        else:
            group.members.append((finding, tuple(lineage.path(group.root.object, finding.object) or (finding.object,))))
    for finding in context:
        _place_context(finding, groups, lineage)
    groups.sort(key=_Group.rank_key)
    return [_cause(g) for g in groups]


def _best_group(finding: Finding, groups: list[_Group], lineage: Lineage) -> _Group | None:
    kind, best, best_score = kind_of(finding), None, None
    for group in sorted(groups, key=_Group.rank_key):
        score = _fit(finding, kind, group, lineage)
        if score is not None and (best_score is None or score < best_score):
            best, best_score = group, score
    return best


def _fit(finding: Finding, kind: str, group: _Group, lineage: Lineage) -> tuple | None:
    """How well `group` explains `finding` (lower is better), or None when it cannot."""
    root = group.root
    if kind not in EXPLAINS.get(group.kind, _EVERYTHING):
        return None
    if root.object == finding.object:
        return (0, 0) if root.column == finding.column and kind != "fan_out" else None
    distances = [d for f, _ in group.members if (d := lineage.distance(f.object, finding.object)) is not None]
    if lineage.distance(root.object, finding.object) is None or not distances:
        return None
    fit = _column_fit(root, finding, kind)
    if fit == 2 and kind != "fan_out" and lineage.has_column(root.object, finding.column):
        return None  # a column the cause's object has too: its own defect would show there first
    return (fit, min(distances))


def _column_fit(root: Finding, finding: Finding, kind: str) -> float:
    """0 same column, 1 the column names it, 1.5 the summary does, 2 another column (lineage only)."""
    if kind == "fan_out":  # a join's grain key is not the duplicated column: lineage decides
        return 2
    if root.column == finding.column:
        return 0
    wanted = _tokens(root.column)
    if wanted and wanted <= _tokens(finding.column):
        return 1
    if wanted and wanted <= _tokens(finding.summary):
        return 1.5
    return 2


_GENERIC = {"id", "key", "at", "date", "is", "n", "count", "of", "the", "a"}


def _tokens(text: str | None) -> set[str]:
    return {t for t in re.split(r"[^a-z0-9]+", (text or "").lower()) if t and t not in _GENERIC}


def _place_context(finding: Finding, groups: list[_Group], lineage: Lineage) -> None:
    """A new raw file or a code change is context: it goes with the cause it most likely brought."""
    wanted = ("volume",) if finding.check == "changes.raw_files" else ("schema_change",)
    on_feeds = [g for g in sorted(groups, key=_Group.rank_key) if lineage.knows(g.root.object) and g.depth == 0]
    target = next((g for g in on_feeds if g.kind in wanted), None)
    if target is None and finding.check == "changes.raw_files":
        target = next(iter(on_feeds), None)
    if target is None:
        groups.append(_Group(finding, "volume" if finding.check == "changes.raw_files" else "schema_change", 0,
                             [(finding, (finding.object,))]))
    else:
        target.members.append((finding, (finding.object, target.root.object)))


def _cause(group: _Group) -> Cause:
    root = group.root
    symptoms = tuple(Symptom(f.id, f.check, f.status, f.object, f.column, f.summary, path) for f, path in group.members[1:])
    downstream = sorted({s.object for s in symptoms if s.object != root.object and s.check not in CONTEXT_CHECKS})
    evidence = {k: v for k, v in root.evidence.items() if isinstance(v, (int, float, str)) or v is None}
    evidence.update({"check": root.check, "symptoms": len(symptoms), "downstream_objects": downstream})
    where = root.object + (f".{root.column}" if root.column else "")
    text = f"{where}: {headline(root)}"
    extra = hint(group.kind, root, [f for f, _ in group.members[1:]])
    if extra:
        text += f"; {extra}"
    if downstream:
        text += f"; shows on {len(downstream)} downstream model{'s' if len(downstream) > 1 else ''}"
    key = f"{group.kind}|{root.object}|{root.column or ''}|{root.check}"
    return Cause("C" + hashlib.sha1(key.encode()).hexdigest()[:8], group.kind, group.status(), root.object, root.column,
                 text, evidence, tuple(f.id for f, _ in group.members), symptoms, magnitude(root), group.depth)
