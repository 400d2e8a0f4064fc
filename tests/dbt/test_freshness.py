"""`dbt source freshness` (warn 12 h, error 24 h on last_updated): data ending today is fresh, the
default historical dates are stale. Expected statuses come from the raw files' newest last_updated
read with plain Python, compared with the clock."""

from __future__ import annotations

import csv
import json
import shutil
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tui.core.generator import generate

pytestmark = pytest.mark.slow

FEEDS = {"companies": "companies.csv", "employees": "employees.csv", "plans": "plans.json",
         "enrollments": "enrollments.csv", "claims": "claims/*.jsonl"}


def _stamps(raw: Path, feed: str) -> list[str]:
    pattern = FEEDS[feed]
    if pattern.endswith(".csv"):
        with (raw / pattern).open(newline="") as handle:
            return [row.get("last_updated") or "" for row in csv.DictReader(handle)]
    if pattern.endswith(".json"):
        return [plan["last_updated"] for plan in json.loads((raw / pattern).read_text())]
    stamps = []
    for path in sorted(raw.glob(pattern)):
        for line in path.read_text().splitlines():
            try:
                stamps.append(json.loads(line)["last_updated"])
            except (ValueError, KeyError):
                pass  # a malformed line carries no usable timestamp
    return stamps


def _newest(raw: Path, feed: str) -> datetime:
    parsed = []
    for text in _stamps(raw, feed):
        try:
            parsed.append(datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))
        except ValueError:
            pass
    return max(parsed)


def _expected_status(newest: datetime, now: datetime) -> str:
    age = now - newest
    return "pass" if age <= timedelta(hours=12) else "warn" if age <= timedelta(hours=24) else "error"


def _utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _freshness(run) -> dict[str, str]:
    result = run.invoke("source", "freshness")
    assert result.exception is None, repr(result.exception)
    return {r.node.name: str(r.status) for r in result.result.results if r.node.resource_type == "source"}


def test_data_ending_today_is_fresh_and_has_no_future_timestamps(fresh_run):
    generate(fresh_run.raw, "baseline", companies=3, employees=60, claims_per_day=40, days=3, end_date="today")
    fresh_run.build()
    now = _utc_now()
    newest = {feed: _newest(fresh_run.raw, feed) for feed in FEEDS}
    assert all(stamp <= now for stamp in newest.values()), newest
    expected = {feed: _expected_status(stamp, now) for feed, stamp in newest.items()}
    assert expected == dict.fromkeys(FEEDS, "pass")
    assert _freshness(fresh_run) == expected


def test_default_historical_dates_are_stale(baseline, fresh_run):
    shutil.copytree(baseline.raw, fresh_run.raw)  # the shared build stays untouched (warnings, warehouse)
    now = _utc_now()
    expected = {feed: _expected_status(_newest(fresh_run.raw, feed), now) for feed in FEEDS}
    assert expected == dict.fromkeys(FEEDS, "error")
    assert _freshness(fresh_run) == expected
