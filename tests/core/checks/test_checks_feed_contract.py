"""The feed contract as a check family: raw feeds whose columns changed (one renamed, one missing,
keys added and one missing in a new JSON-lines delivery) are findings naming the source, the column
and the file; untouched feeds pass; `pipeline-tui check` fails on them and the triage's feeds step
runs them. The expected findings come from the edits the test makes to the files."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui.cli import app
from tui.core.checks.config import ChecksConfig
from tui.core.checks.engine import run_step
from tui.core.checks.playbook import load_playbook
from tui.core.checks.triage import close, open_for, run_checks

from triage_workspaces import baseline_root, copy_of, workspace

NEW_FEED = "claims/claims_2099-01-01_partner.jsonl"


def rewrite_csv(path: Path, change) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text())))
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(change(rows))
    path.write_text(out.getvalue())


def drop_column(rows: list[list[str]], name: str) -> list[list[str]]:
    index = rows[0].index(name)
    return [row[:index] + row[index + 1:] for row in rows]


@pytest.fixture(scope="module")
def changed():
    root = copy_of(baseline_root(), "changed-feeds")
    raw = workspace(root).raw_dir
    rewrite_csv(raw / "employees.csv", lambda rows: [[("dept" if c == "department" else c) for c in rows[0]]] + rows[1:])
    rewrite_csv(raw / "companies.csv", lambda rows: drop_column(rows, "state"))
    last = sorted((raw / "claims").glob("*.jsonl"))[-1]
    claims = [json.loads(line) for line in last.read_text().splitlines()[:50]]
    for claim in claims:
        claim["amount_usd"] = claim.pop("amount")
        claim["currency"] = "USD"
    (raw / NEW_FEED).write_text("".join(json.dumps(c) + "\n" for c in claims))
    return root


def test_each_changed_column_is_a_finding_naming_its_file(changed):
    findings, _ = run_checks(workspace(changed), families=["feed_contract"])
    bad = {(f.object, f.column): f for f in findings if f.status != "pass"}
    assert set(bad) == {("benefits.employees", "department"), ("benefits.companies", "state"),
                        ("benefits.claims", "amount"), ("benefits.claims", "amount_usd"), ("benefits.claims", "currency")}
    renamed = bad["benefits.employees", "department"]
    assert renamed.status == "fail" and renamed.evidence["kind"] == "renamed" and renamed.evidence["files"] == ["employees.csv"]
    assert "employees.csv" in renamed.summary and "'dept'" in renamed.summary
    missing = bad["benefits.companies", "state"]
    assert missing.status == "fail" and missing.evidence["kind"] == "missing" and "companies.csv" in missing.summary
    amount = bad["benefits.claims", "amount"]
    assert amount.status == "fail" and amount.evidence["files"] == [NEW_FEED] and NEW_FEED in amount.summary
    assert amount.evidence["files_read"] == len(list((workspace(changed).raw_dir / "claims").glob("*.jsonl")))
    assert {bad["benefits.claims", c].status for c in ("amount_usd", "currency")} == {"warn"}  # JSON is read by key
    passed = {f.object for f in findings if f.status == "pass"}
    assert {"benefits.plans", "benefits.enrollments"} <= passed


def test_statuses_are_configurable(changed, tmp_path):
    (tmp_path / "thresholds.yml").write_text("contract:\n  status: {renamed: warn, unexpected_json: fail}\n")
    findings, _ = run_checks(workspace(changed), families=["feed_contract"], checks_dirs=(tmp_path,))
    status = {(f.object, f.column): f.status for f in findings}
    assert status["benefits.employees", "department"] == "warn" and status["benefits.claims", "currency"] == "fail"
    assert status["benefits.companies", "state"] == "fail"


def test_ci_check_fails_and_the_triage_feeds_step_runs_it(changed):
    assert "feed_contract" in ChecksConfig.load().get("check.families")
    result = CliRunner().invoke(app, ["--workspace", str(changed), "check", "--family", "feed_contract", "--json"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert any(f["check"] == "contract.feed" and f["column"] == "state" and f["status"] == "fail" for f in data["findings"])
    ctx = open_for(workspace(changed))
    try:
        step = run_step(ctx, load_playbook(ctx.config).step("feeds"))
    finally:
        close(ctx)
    assert step.status == "fail" and dict(step.family_seconds).keys() >= {"raw_files", "feed_contract", "freshness"}
    assert any(f.check == "contract.feed" and f.column == "department" for f in step.findings)


def test_clean_feeds_pass_the_contract():
    findings, _ = run_checks(workspace(copy_of(baseline_root(), "clean-feeds")), families=["feed_contract"])
    assert findings and {f.status for f in findings} == {"pass"}
    assert {f.object for f in findings} >= {"benefits.claims", "benefits.employees", "benefits.companies"}
