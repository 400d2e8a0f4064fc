"""`pipeline-tui triage` and `pipeline-tui check` on real built workspaces: outputs, exit codes, and
a report that carries no personal value from the fixtures (names, emails)."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tui.cli import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "checks"))
from triage_workspaces import copy_of, incident_root, next_day_root, workspace  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def incident_report(tmp_path_factory):
    root = copy_of(incident_root(), "cli-incident")
    out = tmp_path_factory.mktemp("report")
    result = runner.invoke(app, ["--workspace", str(root), "triage", "--report", str(out / "incident.md"),
                                 "--json", str(out / "findings.json")])
    return root, out, result


def test_triage_writes_report_and_findings(incident_report):
    _, out, result = incident_report
    assert result.exit_code == 0, result.output
    assert re.search(r"triage: [1-9]\d* fail", result.output)
    findings = json.loads((out / "findings.json").read_text())["findings"]
    assert findings and {"check", "status", "object", "column", "summary", "evidence"} <= set(findings[0])
    assert findings[0]["status"] == "fail"  # sorted by severity
    report = (out / "incident.md").read_text()
    for section in ("## Timeline", "## Findings", "## Steps", "## Notes", "## Queries used"):
        assert section in report
    assert re.search(r"\| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC \| \+0:\d\d \| triage started", report)
    assert "```sql" in report and "int_claims_matched_to_coverage" in report
    assert not list(out.glob(".*")), "temporary files left behind"


def personal_values(raw_dir: Path) -> set[str]:
    with (raw_dir / "employees.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("email")]
    values = {r["email"] for r in rows} | {f"{r['first_name']} {r['last_name']}" for r in rows}
    return values | {r[k] for r in rows for k in ("first_name", "last_name") if len(r[k]) >= 3}


def test_report_and_findings_hold_no_personal_values(incident_report):
    root, out, _ = incident_report
    values = personal_values(workspace(root).raw_dir)
    assert len(values) > 100
    for path in (out / "incident.md", out / "findings.json"):
        text = path.read_text()
        words = set(re.findall(r"[A-Za-z][A-Za-z'.@0-9_-]*", text))
        leaked = sorted(v for v in values if (" " in v or "@" in v) and v in text or v in words)
        assert leaked == [], f"{path.name} leaks {leaked[:5]}"


def test_check_exits_1_on_the_incident_and_prints_json(incident_report):
    root, _, _ = incident_report
    result = runner.invoke(app, ["--workspace", str(root), "check", "--json", "--family", "keys", "--family", "drift"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["counts"]["fail"] > 0 and all(f["status"] in ("pass", "warn", "fail") for f in data["findings"])


def test_check_exits_0_on_a_clean_next_day():
    root = copy_of(next_day_root(), "cli-next-day")
    result = runner.invoke(app, ["--workspace", str(root), "check"])
    assert result.exit_code == 0, result.output
    assert re.search(r"check: 0 fail, \d+ warn, [1-9]\d* pass", result.output)


def test_check_exits_2_when_nothing_was_built(tmp_path):
    result = runner.invoke(app, ["--workspace", str(tmp_path / "empty"), "check"])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "error:" in result.output


def test_unknown_family_and_unknown_baseline_exit_2(incident_report):
    root, _, _ = incident_report
    assert runner.invoke(app, ["--workspace", str(root), "check", "--family", "nope"]).exit_code == 2
    result = runner.invoke(app, ["--workspace", str(root), "triage", "--baseline", "no-such-run"])
    assert result.exit_code == 2 and "no stored checks for run no-such-run" in result.output


@pytest.mark.parametrize("command", ["triage", "check"])
def test_commands_have_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and len(result.output) > 200
