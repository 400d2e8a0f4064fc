"""Causes on the real embedded project: every ground-truth defect of the incident is among the first
(number of defects + 2) causes with its table and column; every failing or warning finding belongs to
exactly one cause; the clean next day draws no failing cause. Small inputs: lineage walking, folding,
and planned dates already in the future in the baseline."""

from __future__ import annotations

import json

import pytest

from tui.core.checks.causes import build_causes
from tui.core.checks.config import ChecksConfig
from tui.core.checks.drift import Comparison, out_of_range
from tui.core.checks.findings import Finding
from tui.core.checks.lineage import Lineage
from tui.core.checks.report import findings_json, lineage_of, markdown
from tui.core.checks.targets import TEMPORAL
from tui.core.checks.triage import run_triage

from triage_workspaces import copy_of, incident_root, next_day_root, workspace


def names_table(obj: str, table: str) -> bool:
    return obj.split(".")[-1] == table or obj.endswith(f"__{table}")


@pytest.fixture(scope="module")
def incident():
    ws = workspace(copy_of(incident_root(), "incident-causes"))
    session, playbook = run_triage(ws)
    truth = json.loads((ws.raw_dir / "ground_truth.json").read_text())["defects"]
    return findings_json(session, lineage_of(ws)), markdown(session, playbook, lineage_of(ws)), truth, session


def test_every_defect_is_among_the_first_causes_on_its_table_and_column(incident):
    data, _, truth, _ = incident
    defects = {(d["defect"], d["table"], d["column"]) for d in truth}
    first = data["causes"][: len(defects) + 2]
    missed = [d for d in sorted(defects, key=str)
              if not any(names_table(c["object"], d[1]) and c["column"] == d[2] for c in first)]
    assert missed == [], [(c["object"], c["column"], c["summary"]) for c in first]


def test_every_failing_or_warning_finding_belongs_to_exactly_one_cause(incident):
    data, _, _, _ = incident
    bad = [f["id"] for f in data["findings"] if f["status"] != "pass"]
    claimed = [i for c in data["causes"] for i in c["finding_ids"]]
    assert sorted(claimed) == sorted(bad)
    assert len(set(f["id"] for f in data["findings"])) == len(data["findings"])


def test_causes_come_first_fails_before_warns_and_symptoms_fold_under_them(incident):
    data, report, truth, _ = incident
    statuses = [c["status"] for c in data["causes"]]
    assert statuses == sorted(statuses, key=lambda s: s != "fail")
    cents = next(c for c in data["causes"] if c["column"] == "amount")
    assert "cents" in cents["summary"] and len(cents["symptoms"]) >= 3
    assert all(s["path"][0] == cents["object"] for s in cents["symptoms"])
    padded = next(c for c in data["causes"] if c["column"] == "employee_id" and c["kind"] == "type_mismatch")
    assert "0" * 3 in padded["summary"] and "N" in padded["summary"]
    assert report.index("## Likely causes") < report.index("## Findings")


def test_the_suspects_step_names_the_defective_feeds_first(incident):
    _, _, truth, session = incident
    tables = [t for s in session.steps.values() if s.result for t in s.result.tables if t.title == "Suspect objects"]
    feeds = {d["table"] for d in truth if d["defect"] != "malformed_line"}  # the defects that fail
    first = [row[1] for row in tables[0].rows[: len(feeds) + 2]]
    assert all(any("." in o and names_table(o, t) for o in first) for t in feeds), first


def test_the_clean_next_day_draws_no_failing_cause():
    ws = workspace(copy_of(next_day_root(), "next-day-causes"))
    session, _ = run_triage(ws)
    causes = findings_json(session, lineage_of(ws))["causes"]
    assert [c["summary"] for c in causes if c["status"] == "fail"] == []


LINEAGE = Lineage({"src.a": set(), "src.b": set(), "stg_a": {"src.a"}, "stg_b": {"src.b"}, "int_ab": {"stg_a", "stg_b"},
                   "fct": {"int_ab"}}, {"src.a": {"amount", "a_id"}, "stg_a": {"amount", "a_id"}})


def test_lineage_depth_and_path():
    assert [LINEAGE.depth(n) for n in ("src.a", "stg_a", "int_ab", "fct")] == [0, 1, 2, 3]
    assert LINEAGE.path("src.a", "fct") == ["src.a", "stg_a", "int_ab", "fct"]
    assert LINEAGE.path("fct", "src.a") is None


def test_a_symptom_downstream_folds_under_the_upstream_cause_with_its_path():
    found = [Finding("drift.distribution", "fail", "fct", "amount", "amount rose", {"factor": 100.0}),
             Finding("drift.distribution", "fail", "stg_a", "amount", "amount rose", {"factor": 100.0}),
             Finding("keys.duplicate_records", "fail", "src.b", "b_id", "rows repeated", {"share": 0.04}),
             Finding("keys.fan_out", "fail", "int_ab", "a_id", "join multiplies", {"rows_per_key": 1.04})]
    causes = build_causes(found, LINEAGE)
    assert [(c.object, c.kind, len(c.finding_ids)) for c in causes] == [("src.b", "duplicate_keys", 2), ("stg_a", "distribution_shift", 2)]
    assert causes[1].symptoms[0].path == ("stg_a", "int_ab", "fct")


def test_a_planned_date_already_in_the_future_in_the_baseline_does_not_fail():
    config = ChecksConfig.load()
    cur = {"future": 30, "ancient": 0, "min": "2020-01-01", "max": "2031-01-01"}
    ref = {"future": 10, "ancient": 0, "min": "2020-01-01", "max": "2031-01-01"}
    planned = Comparison("employees", {"rows": 100}, {"rows": 100}, "table vs baseline", {"termination_date": TEMPORAL,
                                                                                       "last_updated": TEMPORAL})
    assert out_of_range(planned, "termination_date", cur, ref, config) is None
    assert out_of_range(planned, "last_updated", cur, ref, config).status == "fail"
    assert out_of_range(planned, "termination_date", cur, {**ref, "future": 0}, config).status == "fail"
