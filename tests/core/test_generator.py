"""The raw-feed generator: determinism, day-by-day reproducibility, defects and ground truth."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from tui.core.generator import ScenarioError, add_next_day, generate, load_scenario, size_preset

SMALL = dict(companies=4, employees=120, claims_per_day=80, days=6)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _claims(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_same_seed_same_bytes_and_another_seed_differs(tmp_path):
    a = generate(tmp_path / "a", "incident", seed=7, malformed=True, **SMALL)
    generate(tmp_path / "b", "incident", seed=7, malformed=True, **SMALL)
    generate(tmp_path / "c", "incident", seed=8, malformed=True, **SMALL)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    differing = {k for k, v in _files(tmp_path / "a").items() if _files(tmp_path / "c").get(k) != v}
    assert "claims/" + a.files[4].split("/")[-1] in differing and "employees.csv" in differing


def test_one_more_day_keeps_earlier_files_and_add_next_day_matches(tmp_path):
    generate(tmp_path / "six", "baseline", **SMALL)
    generate(tmp_path / "seven", "baseline", **{**SMALL, "days": 7})
    six, seven = _files(tmp_path / "six"), _files(tmp_path / "seven")
    added = set(seven) - set(six)
    assert len(added) == 1 and added.pop().startswith("claims/claims_")
    assert all(seven[name] == content for name, content in six.items() if name != "generator.json")

    summary = add_next_day(tmp_path / "six")
    assert _files(tmp_path / "six") == seven
    assert summary.sizes.days == 7 and summary.rows["claims"] == len(seven[summary.files[0]].splitlines())


def test_feeds_follow_the_contract(tmp_path):
    summary = generate(tmp_path, "baseline", **SMALL)
    with (tmp_path / "employees.csv").open() as handle:
        employees = list(csv.DictReader(handle))
    assert len(employees) == SMALL["employees"] == summary.rows["employees"]
    companies = {int(e["company_id"]) for e in employees}
    assert companies <= set(range(1, SMALL["companies"] + 1))
    plans = json.loads((tmp_path / "plans.json").read_text())
    assert {p["plan_type"] for p in plans} <= {"HMO", "PPO", "EPO", "HDHP", "POS"}
    claims = [c for f in sorted((tmp_path / "claims").glob("*.jsonl")) for c in _claims(f)]
    assert len(claims) == summary.rows["claims"]
    assert {c["severity"] for c in claims} == {"low", "medium", "high", "critical"}
    assert {c["status"] for c in claims} <= {"submitted", "approved", "denied", "paid"}
    resent = len(claims) - len({c["claim_id"] for c in claims})
    assert resent > 0, "some claims are re-delivered in later files"
    assert all(isinstance(c["employee_id"], int) and c["plan_id"] is not None for c in claims)


def test_incident_ground_truth_matches_the_files(tmp_path):
    generate(tmp_path, "incident", **SMALL)
    truth = {d["defect"]: d for d in json.loads((tmp_path / "ground_truth.json").read_text())["defects"]}
    partner = _claims(tmp_path / truth["volume_surge"]["file"])
    by_id: dict[int, list] = {}
    for claim in partner:
        by_id.setdefault(claim["claim_id"], []).append(claim)
    assert sorted(k for k, v in by_id.items() if len(v) == 2) == truth["claims_resent_in_same_file"]["affected_keys"]
    assert sorted(k for k, v in by_id.items() if isinstance(v[0]["employee_id"], str)) == \
        truth["employee_id_zero_padded"]["affected_keys"]
    assert all(v[0]["employee_id"].startswith("0") for v in by_id.values() if isinstance(v[0]["employee_id"], str))
    assert sorted(k for k, v in by_id.items() if v[0]["plan_id"] is None) == truth["plan_id_null"]["affected_keys"]
    assert truth["amount_in_cents"]["affected_count"] > 0
    assert len(by_id) == truth["volume_surge"]["affected_count"] == 5 * SMALL["claims_per_day"]
    with (tmp_path / "enrollments.csv").open() as handle:
        enrollments = list(csv.DictReader(handle))
    per_employee: dict[str, set] = {}
    for row in enrollments:
        per_employee.setdefault(row["employee_id"], []).append((row["plan_id"], row["coverage_start"]))
    doubled = sorted(int(e) for e, rows in per_employee.items() if len(rows) != len(set(rows)))
    assert doubled == truth["enrollments_duplicated"]["affected_keys"] and doubled


def test_malformed_lines_are_where_ground_truth_says(tmp_path):
    generate(tmp_path, "baseline", malformed=True, **SMALL)
    truth = json.loads((tmp_path / "ground_truth.json").read_text())["defects"]
    assert {d["reason"] for d in truth} == {"invalid_json", "invalid_amount", "invalid_service_date",
                                            "wrong_column_count"}
    for defect in truth:
        line = (tmp_path / defect["file"]).read_text().splitlines()[defect["line"] - 1]
        if defect["reason"] == "invalid_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(line)
        elif defect["reason"] == "wrong_column_count":
            header = (tmp_path / defect["file"]).read_text().splitlines()[0]
            assert len(next(csv.reader([line]))) != len(header.split(","))
        else:
            assert json.loads(line)["claim_id"] > 0


def test_scenarios_and_sizes_resolve():
    incident = load_scenario("incident")
    assert incident["name"] == "incident" and incident["claims"] == load_scenario("baseline")["claims"]
    assert size_preset("test").claims_per_day < size_preset("demo").claims_per_day
    with pytest.raises(ScenarioError):
        load_scenario("nope")
    with pytest.raises(ScenarioError):
        size_preset("huge")


def test_bad_parameters_raise_scenario_errors(tmp_path):
    with pytest.raises(ScenarioError):
        generate(tmp_path, "baseline", seed=-1, **SMALL)
    with pytest.raises(ScenarioError):
        generate(tmp_path, "baseline", **{**SMALL, "days": 0})


def test_end_date_conflicts_and_future_are_scenario_errors(tmp_path):
    with pytest.raises(ScenarioError):
        generate(tmp_path, "baseline", start_date="2025-01-06", end_date="2025-02-01", **SMALL)
    tomorrow = datetime.now(timezone.utc).date() + timedelta(days=1)
    with pytest.raises(ScenarioError):
        generate(tmp_path, "baseline", end_date=tomorrow, **SMALL)


def test_add_next_day_needs_a_generated_folder(tmp_path):
    with pytest.raises(ScenarioError):
        add_next_day(tmp_path)


def _timestamps(root: Path) -> list[datetime]:
    """Every last_updated / submitted_at in the feeds, read with plain csv and json."""
    texts = []
    for name in ("companies.csv", "employees.csv", "enrollments.csv"):
        with (root / name).open(newline="") as handle:
            texts += [row["last_updated"] for row in csv.DictReader(handle)]
    texts += [plan["last_updated"] for plan in json.loads((root / "plans.json").read_text())]
    for path in (root / "claims").glob("*.jsonl"):
        texts += [text for claim in _claims(path) for text in (claim["last_updated"], claim["submitted_at"])]
    return [datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ") for text in texts]


def test_end_date_counts_back_the_start_and_is_deterministic(tmp_path):
    a = generate(tmp_path / "a", "incident", seed=3, end_date="2025-03-10", **SMALL)
    generate(tmp_path / "b", "incident", seed=3, end_date=date(2025, 3, 10), **SMALL)
    assert _files(tmp_path / "a") == _files(tmp_path / "b")
    claims_files = [f for f in a.files if f.startswith("claims/")]
    # six baseline days then the partner feed, which lands on the end date
    assert claims_files[0] == "claims/claims_2025-03-04.jsonl"
    assert claims_files[-1] == "claims/claims_2025-03-10_partner.jsonl"
    stamps = _timestamps(tmp_path / "a")
    assert max(stamps) <= datetime(2025, 3, 10, 23, 59, 59)
    with (tmp_path / "a" / "companies.csv").open(newline="") as handle:
        newest_company = max(row["last_updated"] for row in csv.DictReader(handle))
    assert newest_company >= "2025-03-10T22:59:59Z", "the extract holds a company edited in its last hour"


def test_end_today_has_no_future_timestamps(tmp_path):
    before = datetime.now(timezone.utc).date()
    generate(tmp_path, "baseline", end_date="today", **SMALL)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    names = sorted(p.name for p in (tmp_path / "claims").glob("*.jsonl"))
    assert names[-1] in {f"claims_{before}.jsonl", f"claims_{now.date()}.jsonl"} and len(names) == SMALL["days"]
    stamps = _timestamps(tmp_path)
    assert max(stamps) <= now and now - max(stamps) < timedelta(hours=3)



def test_bytes_do_not_depend_on_the_thread_count(tmp_path, monkeypatch):
    from tui.core import generator_claims

    # 2,500 claims a day and a 12,500-claim partner feed: files of several 2,048-row chunks; with
    # shares down to one chunk, 3 threads write each file in 2 or 3 shares
    monkeypatch.setattr(generator_claims, "MIN_SHARE", generator_claims.VECTOR_SIZE)
    sizes = dict(companies=5, employees=400, claims_per_day=2500, days=3)
    one = generate(tmp_path / "one", "incident", seed=11, threads=1, **sizes)
    generate(tmp_path / "three", "incident", seed=11, threads=3, **sizes)
    assert _files(tmp_path / "one") == _files(tmp_path / "three")
    assert not list((tmp_path / "three" / "claims").glob(".*part*")), "no share file is left behind"
    partner = _claims(tmp_path / "one" / one.files[-2])
    assert one.files[-2].endswith("_partner.jsonl") and len({c["claim_id"] for c in partner}) == 12_500
    first_day = [c["claim_id"] for c in _claims(tmp_path / "one" / one.files[4])]
    assert first_day == sorted(first_day), "a day without re-deliveries is written in claim order"


def test_memory_limit_comes_from_the_argument_or_the_environment(tmp_path, monkeypatch):
    from tui.core.generator import default_memory_limit

    monkeypatch.setenv("PIPELINE_TUI_MEMORY_LIMIT", "3GB")
    assert default_memory_limit() == "3GB"
    monkeypatch.delenv("PIPELINE_TUI_MEMORY_LIMIT")
    assert 512 <= int(default_memory_limit().removesuffix("MiB")) <= 4096
    summary = generate(tmp_path / "small", "baseline", memory_limit="300MB", **SMALL)
    assert summary.rows["claims"] > 0
    with pytest.raises(ScenarioError, match="memory limit"):
        generate(tmp_path / "bad", "baseline", memory_limit="lots", **SMALL)


def test_appending_a_share_falls_back_to_plain_copies_without_duplicating(tmp_path, monkeypatch):
    import os

    from tui.core import generator_claims

    head, share = tmp_path / "file.jsonl", tmp_path / ".file.jsonl.part1"
    head.write_bytes(b"first\n")
    share.write_bytes(b"x" * 5_000_000 + b"\nlast\n")
    real = os.copy_file_range

    def fails_after_one_call(source, target, count):
        if fails_after_one_call.called:
            raise OSError(18, "cross-device copy not supported")
        fails_after_one_call.called = True
        return real(source, target, 1_000)

    fails_after_one_call.called = False
    monkeypatch.setattr(os, "copy_file_range", fails_after_one_call)
    generator_claims._append(head, share)
    assert head.read_bytes() == b"first\n" + b"x" * 5_000_000 + b"\nlast\n"
