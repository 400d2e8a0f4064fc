"""What every check returns: `Finding` (check id, pass/warn/fail, object, column, summary, evidence)
and `QueryRecord` (a query a check ran, for the report). Plain frozen dataclasses with JSON round trips.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable

PASS, WARN, FAIL = "pass", "warn", "fail"
STATUSES = (PASS, WARN, FAIL)
_RANK = {PASS: 0, WARN: 1, FAIL: 2}


@dataclass(frozen=True)
class Finding:
    check: str  # family.metric, e.g. "drift.null_rate"
    status: str  # pass, warn or fail
    object: str  # model name, or source as "source_name.table_name"
    column: str | None
    summary: str  # one line, plain words, aggregates only
    evidence: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    step: str | None = None  # playbook step that produced it

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown finding status {self.status!r}")

    @property
    def rank(self) -> int:
        return _RANK[self.status]

    @property
    def id(self) -> str:
        """Stable for the same check of the same thing: check, object, column, step and the words of its
        evidence (what was compared, the parent of a relationship), never its numbers."""
        words = sorted(f"{k}={v}" for k, v in self.evidence.items() if isinstance(v, str))
        key = "|".join((self.check, self.object, self.column or "", self.step or "", *words))
        return hashlib.sha1(key.encode()).hexdigest()[:10]

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(data["check"], data["status"], data["object"], data.get("column"), data["summary"],
                   dict(data.get("evidence") or {}), data.get("step"))


@dataclass(frozen=True)
class QueryRecord:
    label: str  # what the query was for
    sql: str
    seconds: float
    rows: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> QueryRecord:
        return cls(data["label"], data["sql"], float(data["seconds"]), int(data["rows"]))


def by_severity(findings: Iterable[Finding]) -> list[Finding]:
    """Fails first, then warns, then passes; stable by check, object and column within a status."""
    return sorted(findings, key=lambda f: (-f.rank, f.check, f.object, f.column or ""))


def worst(findings: Iterable[Finding]) -> str:
    ranked = [f.rank for f in findings]
    return STATUSES[max(ranked)] if ranked else PASS


def counts(findings: Iterable[Finding]) -> dict[str, int]:
    tally = {status: 0 for status in STATUSES}
    for finding in findings:
        tally[finding.status] += 1
    return tally


def status_for(value: float, warn_at: float | None, fail_at: float | None) -> str:
    """`value` against thresholds where higher is worse (None disables a level)."""
    if fail_at is not None and value >= fail_at:
        return FAIL
    if warn_at is not None and value >= warn_at:
        return WARN
    return PASS
