"""Expected mart contents computed straight from the raw files with plain Python (csv, json).

Independent of the dbt models on purpose: a second implementation of the feed contract and of
the business rules (coverage gaps, plan mismatches, spikes) over test-sized data.
"""

from __future__ import annotations

import csv
import json
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

FAR_FUTURE = date(9999, 12, 31)
CSV_COLUMNS = {"companies.csv": 5, "employees.csv": 9, "enrollments.csv": 7}


def _timestamp(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


def _int(value) -> int:
    if isinstance(value, bool) or value is None:
        raise ValueError(value)
    return int(str(value).strip())


def _claim(obj: dict) -> dict:
    """A cast claim; raises ValueError/InvalidOperation/TypeError for a line that must be rejected."""
    if not isinstance(obj, dict):
        raise ValueError("not an object")
    return {
        "claim_id": _int(obj["claim_id"]),
        "employee_id": _int(obj["employee_id"]),
        "plan_id": None if obj.get("plan_id") is None else _int(obj["plan_id"]),
        "service_date": date.fromisoformat(obj["service_date"]),
        "submitted_at": _timestamp(obj["submitted_at"]),
        "amount": Decimal(str(obj["amount"])),
        "last_updated": _timestamp(obj["last_updated"]),
    }


@dataclass
class RawFeeds:
    root: Path
    rejects: set[tuple[str, int]] = field(default_factory=set)  # (file name, line)
    lines_per_file: dict[str, int] = field(default_factory=dict)  # data lines (header excluded)
    claim_versions: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.companies = self._csv("companies.csv")
        self.employees = {int(r["employee_id"]): r for r in self._csv("employees.csv")}
        self.enrollments = self._csv("enrollments.csv")
        self.plans = {p["plan_id"]: p for p in json.loads((self.root / "plans.json").read_text())}
        for path in sorted((self.root / "claims").glob("*.jsonl")):
            self._read_claims(path)

    def _csv(self, name: str) -> list[dict]:
        with (self.root / name).open(newline="") as handle:
            rows = list(csv.reader(handle))
        header, good = rows[0], []
        self.lines_per_file[name] = len(rows) - 1
        for number, row in enumerate(rows[1:], start=2):
            if len(row) != CSV_COLUMNS[name]:
                self.rejects.add((name, number))
            else:
                good.append(dict(zip(header, row)))
        return good

    def _read_claims(self, path: Path) -> None:
        lines = path.read_text().splitlines()
        self.lines_per_file[path.name] = len(lines)
        for number, text in enumerate(lines, start=1):
            try:
                claim = _claim(json.loads(text))
            except (ValueError, KeyError, TypeError, InvalidOperation):
                self.rejects.add((path.name, number))
                continue
            self.claim_versions.append({**claim, "source_file": path.name})

    # --- the latest version of every claim, and the employee facts it needs -------------------
    def latest_claims(self, until_file: str | None = None) -> dict[int, dict]:
        latest: dict[int, dict] = {}
        for claim in self.claim_versions:
            if until_file and claim["source_file"] > until_file:
                continue
            known = latest.get(claim["claim_id"])
            if known is None or claim["last_updated"] > known["last_updated"]:
                latest[claim["claim_id"]] = claim
        return latest

    def company_of(self, employee_id: int) -> int:
        return int(self.employees[employee_id]["company_id"])

    def periods(self) -> dict[int, list[tuple[date, date, int, int]]]:
        """Per employee: (start, effective end, plan_id, enrollment_id), sorted by start then id."""
        out: dict[int, list] = defaultdict(list)
        for row in self.enrollments:
            employee = int(row["employee_id"])
            termination = self.employees[employee]["termination_date"]
            end = min(date.fromisoformat(row["coverage_end"]) if row["coverage_end"] else FAR_FUTURE,
                      date.fromisoformat(termination) if termination else FAR_FUTURE)
            out[employee].append((date.fromisoformat(row["coverage_start"]), end, int(row["plan_id"]),
                                  int(row["enrollment_id"])))
        return {k: sorted(v, key=lambda p: (p[0], p[3])) for k, v in out.items()}

    # --- expectations ---------------------------------------------------------------------------
    def totals_per_company(self) -> dict[int, Decimal]:
        totals: dict[int, Decimal] = defaultdict(Decimal)
        for claim in self.latest_claims().values():
            totals[self.company_of(claim["employee_id"])] += claim["amount"]
        return dict(totals)

    def coverage_gap_counts(self) -> dict[str, int]:
        periods = self.periods()
        uncovered = sum(
            1 for c in self.latest_claims().values()
            if not any(start <= c["service_date"] <= end for start, end, _, _ in periods.get(c["employee_id"], []))
        )
        between = 0
        for employee_periods in periods.values():
            latest_end = None
            for start, end, _, _ in employee_periods:
                if latest_end is not None and start > latest_end + timedelta(days=1):
                    between += 1
                latest_end = end if latest_end is None else max(latest_end, end)
        return {"claim_without_coverage": uncovered, "gap_between_periods": between}

    def mismatch_counts(self) -> dict[str, int]:
        periods, counts = self.periods(), defaultdict(int)
        for c in self.latest_claims().values():
            active = {plan for start, end, plan, _ in periods.get(c["employee_id"], [])
                      if start <= c["service_date"] <= end}
            plan = self.plans.get(c["plan_id"])
            if c["plan_id"] is None:
                counts["missing_plan"] += 1
            elif plan is None or plan["company_id"] != self.company_of(c["employee_id"]):
                counts["plan_not_offered_by_company"] += 1
            elif active and c["plan_id"] not in active:
                counts["not_enrolled_plan"] += 1
        return dict(counts)

    def daily_totals(self) -> dict[tuple[int, date], Decimal]:
        claims = self.latest_claims().values()
        days = [c["submitted_at"].date() for c in claims]
        first, last = min(days), max(days)
        totals = {(int(co["company_id"]), first + timedelta(days=i)): Decimal(0)
                  for co in self.companies for i in range((last - first).days + 1)}
        for c in claims:
            totals[(self.company_of(c["employee_id"]), c["submitted_at"].date())] += c["amount"]
        return totals

    def spike_days(self, window=28, min_history=7, stddevs=3, min_ratio=2) -> set[tuple[int, date]]:
        by_company: dict[int, list] = defaultdict(list)
        for (company, day), total in sorted(self.daily_totals().items()):
            by_company[company].append((day, float(total)))
        spikes = set()
        for company, series in by_company.items():
            for i, (day, total) in enumerate(series):
                history = [t for _, t in series[max(0, i - window):i]]
                if len(history) < min_history:
                    continue
                mean = statistics.fmean(history)
                if total > mean + stddevs * statistics.pstdev(history) and total > min_ratio * mean:
                    spikes.add((company, day))
        return spikes
