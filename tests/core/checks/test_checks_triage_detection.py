"""Triage on the real embedded project: every defect the generator injected (ground_truth.json) is
reported as warn or fail on the right object and column; a clean next-day feed reports no fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tui.core.checks.triage import run_triage

from triage_workspaces import copy_of, incident_root, next_day_root, workspace


@pytest.fixture(scope="module")
def incident():
    root = copy_of(incident_root(), "incident-triage")
    session, playbook = run_triage(workspace(root))
    truth = json.loads((workspace(root).raw_dir / "ground_truth.json").read_text())["defects"]
    return session, truth


def names_table(obj: str, table: str) -> bool:
    """A finding's object is the feed's source (`benefits.claims`) or a model built on it (`stg_benefits__claims`)."""
    return obj.split(".")[-1] == table or obj.endswith(f"__{table}") or obj.split("__")[-1] == table


def test_incident_triage_ran_against_the_clean_baseline(incident):
    session, _ = incident
    assert session.baseline_run_id and session.latest_run_id and session.baseline_run_id != session.latest_run_id


@pytest.mark.parametrize("defect", ["volume_surge", "claims_resent_in_same_file", "employee_id_zero_padded",
                                    "plan_id_null", "amount_in_cents", "enrollments_duplicated"])
def test_each_injected_defect_is_reported_on_its_table_and_column(incident, defect):
    session, truth = incident
    entries = [d for d in truth if d["defect"] == defect]
    assert entries, f"{defect} missing from ground_truth.json"
    flagged = [f for f in session.findings() if f.status in ("warn", "fail")]
    for entry in entries:
        hits = [f for f in flagged if names_table(f.object, entry["table"]) and f.column == entry["column"]]
        assert hits, f"{defect}: nothing flagged on {entry['table']}.{entry['column']}"


def test_every_ground_truth_defect_is_covered(incident):
    session, truth = incident
    flagged = {(f.object, f.column) for f in session.findings() if f.status in ("warn", "fail")}
    missed = [d["defect"] for d in truth
              if not any(names_table(o, d["table"]) and c == d["column"] for o, c in flagged)]
    assert missed == []


def test_malformed_lines_are_reported_per_feed_with_their_reasons(incident):
    session, truth = incident
    rejects = {f.object: f for f in session.findings() if f.check == "integrity.rejects" and f.status != "pass"}
    for entry in (d for d in truth if d["defect"] == "malformed_line"):
        finding = next(f for o, f in rejects.items() if names_table(o, entry["table"]))
        assert finding.evidence["reasons"].get(entry["reason"], 0) >= 1, (entry, finding.evidence)
        assert Path(entry["file"]).name in finding.evidence["files"]


def test_the_fan_out_is_named_on_the_join_model_and_its_plan(incident):
    session, _ = incident
    fan = [f for f in session.findings() if f.check == "keys.fan_out" and f.status == "fail"]
    assert [f.object for f in fan] == ["int_claims_matched_to_coverage"]
    assert fan[0].evidence["rows_per_key"] > 1.0 and fan[0].evidence["baseline_rows_per_key"] == 1.0
    plans = [f for f in session.findings() if f.check.startswith("plans.join") and f.object == "int_claims_matched_to_coverage"]
    assert plans and "JOIN" in plans[0].evidence["operator"]


def test_duplicated_enrollment_count_matches_the_raw_file(incident):
    session, truth = incident
    import duckdb

    raw = workspace(incident_root()).raw_dir / "enrollments.csv"
    expected = duckdb.connect().execute(f"SELECT count(*) - count(DISTINCT (employee_id, plan_id, coverage_tier, coverage_start, coverage_end)) "
                          f"FROM read_csv('{raw}', header=true, all_varchar=true, ignore_errors=true)").fetchone()[0]  # the line with an extra field is rejected
    found = next(f for f in session.findings() if f.check == "keys.duplicate_records" and f.object == "stg_benefits__enrollments")
    assert found.evidence["repeated_rows"] == expected > 0


def test_clean_next_day_feed_reports_no_fail():
    session, _ = run_triage(workspace(copy_of(next_day_root(), "next-day-triage")))
    fails = [(f.check, f.object, f.column, f.summary) for f in session.findings() if f.status == "fail"]
    assert fails == []
    assert any(f.check == "changes.raw_files" and "claims_" in f.summary for f in session.findings())
