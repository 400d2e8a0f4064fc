"""Engine pieces on small inputs: baseline choice and the latest run, performance against history,
declarative rules, plan comparison, recent changes (git, raw files), atomic reports."""

from __future__ import annotations

import subprocess

import pytest

from tui.core.checks.baseline import BaselineError, choose_baseline, latest_run
from tui.core.checks.changes import git_findings, raw_file_findings
from tui.core.checks.config import ChecksConfig
from tui.core.checks.context import Baseline, CheckContext
from tui.core.checks.engine import FACTS_KIND, FACTS_OBJECT
from tui.core.checks.incident import IncidentSession, write_atomic
from tui.core.checks.performance import performance_findings
from tui.core.checks.plans import compare_plans
from tui.core.checks.playbook import load_playbook
from tui.core.checks.report import markdown
from tui.core.checks.rules import load_rules, rule_findings
from tui.core.checks.sql import open_warehouse
from tui.core.run_events import NodeFinished, RunFinished, RunStarted
from tui.core.history import HistoryStore
from tui.core.project import Project

from checks_plain_db import make_claims_db

CONFIG = ChecksConfig.load()


def record_run(store: HistoryStore, run_id: str, at: float, status: str, durations: dict[str, float]) -> None:
    store.start_run(RunStarted(run_id, "build", None, None, at))
    for name, seconds in durations.items():
        store.add_node(NodeFinished(run_id, f"model.p.{name}", name, "model", "success", at, at + seconds, 0.01,
                                    seconds, rows=100, est_cost_usd=seconds * 2 / 3600))
    store.finish_run(RunFinished(run_id, status, at + 10, 10.0))


@pytest.fixture
def store(tmp_path):
    with HistoryStore(tmp_path / "history.sqlite") as history:
        yield history


def ctx_for(tmp_path, history=None, latest=None, baseline=None, project=None, **kw) -> CheckContext:
    runner = open_warehouse(make_claims_db(tmp_path / "w.duckdb", defects=False))
    return CheckContext(project or Project({}, tmp_path), runner, CONFIG, history=history, latest_run=latest,
                        baseline=baseline or Baseline(), **kw)


def test_latest_run_is_the_newest_build_even_when_it_failed_and_baseline_is_the_last_clean_one(store):
    record_run(store, "r1", 1000, "success", {})
    record_run(store, "r2", 2000, "success", {})
    record_run(store, "r3", 3000, "error", {})
    store.put_profile(FACTS_OBJECT, {"worst": "pass", "run_started_at": 1000}, run_id="r1", kind=FACTS_KIND)
    store.put_profile(FACTS_OBJECT, {"worst": "fail", "run_started_at": 2000}, run_id="r2", kind=FACTS_KIND)
    latest = latest_run(store)
    assert latest.run_id == "r3" and latest.status == "error"
    assert choose_baseline(store, latest).run_id == "r1"
    assert choose_baseline(store, latest, "r2").run_id == "r2"
    with pytest.raises(BaselineError, match="no stored checks for run r9"):
        choose_baseline(store, latest, "r9")


def test_performance_flags_a_model_five_times_slower_than_its_median(store, tmp_path):
    for i in range(4):
        record_run(store, f"r{i}", 1000 * (i + 1), "success", {"fct_claims": 1.0, "stg_claims": 0.5})
    record_run(store, "now", 9000, "success", {"fct_claims": 6.0, "stg_claims": 0.55})
    findings = performance_findings(ctx_for(tmp_path, store, latest_run(store)))
    slowed = {f.object: f for f in findings if f.check == "performance.duration"}
    assert set(slowed) == {"fct_claims"} and slowed["fct_claims"].status == "fail"
    assert slowed["fct_claims"].evidence["ratio"] == 6.0 and slowed["fct_claims"].evidence["median_s"] == 1.0


def test_rules_load_from_checks_and_thresholds_override_them():
    rules = {r.id: r for r in load_rules(ChecksConfig.load(overrides={"rules": {"company_claims_total_no_drop": {"fail_drop_share": 0.5}}}))}
    assert rules["company_claims_total_no_drop"].thresholds["fail_drop_share"] == 0.5
    assert rules["claims_have_active_plan"].family == "integrity"


def test_a_rule_on_a_missing_model_is_skipped_not_a_finding(tmp_path):
    ctx = ctx_for(tmp_path)
    business = {r.id for r in load_rules(ctx.config) if r.family == "business"}
    assert business and rule_findings(ctx, "business") == []
    assert set(ctx.skipped) == {f"business.{r}" for r in business}
    assert all(reason.startswith("not applicable: ref(") for reason in ctx.skipped.values())


def test_team_rules_from_another_folder_run_against_the_warehouse(tmp_path):
    folder = tmp_path / "team"
    (folder / "rules").mkdir(parents=True)
    (folder / "rules" / "team.yml").write_text(
        "rules:\n  - id: big_amounts\n    family: business\n    title: no claim above 10,000\n"
        "    object: claims\n    column: amount\n    fail_count_above: 0\n"
        "    sql: select count(*) filter (where amount > {{ limit }}) as failing, count(*) as total from claims\n"
        "    params: {limit: 80}\n")
    ctx = ctx_for(tmp_path)
    ctx.config = ChecksConfig.load([folder])
    found = {f.check: f for f in rule_findings(ctx, "business")}
    expected = ctx.runner.one("select count(*) filter (where amount > 80) as n from claims", "expected")["n"]
    assert found["business.big_amounts"].status == "fail" and found["business.big_amounts"].evidence["failing"] == expected > 0


def test_groups_rule_fails_when_a_value_drops_against_the_baseline(tmp_path):
    folder = tmp_path / "team"
    (folder / "rules").mkdir(parents=True)
    (folder / "rules" / "g.yml").write_text(
        "rules:\n  - id: totals\n    kind: groups\n    title: totals per plan\n    object: claims\n"
        "    warn_drop_share: 0.01\n    fail_drop_share: 0.1\n"
        "    sql: select plan_id as key, sum(amount) as value from claims group by 1\n")
    ctx = ctx_for(tmp_path)
    ctx.config = ChecksConfig.load([folder])
    first = rule_findings(ctx, "business")[-1]
    assert first.status == "pass" and "baseline" in first.summary
    values = dict(ctx.facts["rules"]["totals"]["values"])
    values["3"] = values["3"] * 2  # the baseline had twice plan 3's total: it dropped by half
    ctx.baseline = Baseline("b", facts={"rules": {"totals": {"values": values}}})
    found = rule_findings(ctx, "business")[-1]
    assert found.status == "fail" and found.evidence["worst_groups"] == {"3": 0.5}


def operators(join_rows: int) -> list[dict]:
    return [{"name": "PROJECTION", "depth": 0, "rows": join_rows, "input_rows": join_rows, "seconds": 0.01, "estimated": ""},
            {"name": "HASH_JOIN", "depth": 1, "rows": join_rows, "input_rows": 1000, "seconds": 0.05, "estimated": "1000"},
            {"name": "SEQ_SCAN", "depth": 2, "rows": 1000, "input_rows": 0, "seconds": 0.01, "estimated": "1000"}]


def test_plan_comparison_points_at_the_join_that_started_multiplying(tmp_path):
    ctx = ctx_for(tmp_path)
    found = compare_plans("int_x", operators(1040), operators(1000), ctx)
    assert found.status == "fail" and found.evidence["operator"] == "HASH_JOIN #1"
    assert found.evidence["rows_per_input"] == 1.04 and found.evidence["baseline_rows_per_input"] == 1.0
    assert compare_plans("int_x", operators(1000), operators(1000), ctx).status == "pass"


def test_recent_changes_list_commits_and_new_raw_files(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    git = lambda *a: subprocess.run(["git", "-C", str(project), *a], check=True, capture_output=True)  # noqa: E731
    git("init", "-q")
    git("config", "user.email", "t@example.invalid")
    git("config", "user.name", "t")
    (project / "model.sql").write_text("select 1")
    git("add", ".")
    git("commit", "-qm", "add the model")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.csv").write_text("x\n1\n")
    ctx = ctx_for(tmp_path, project_dir=project, raw_dir=raw, baseline=Baseline("b", started_at=1.0, facts={"raw_files": {}}))
    commits = git_findings(ctx)[0]
    assert commits.evidence["commits"][0]["subject"] == "add the model"
    files = raw_file_findings(ctx)[0]
    assert files.status == "warn" and files.evidence["files"][0]["file"] == "a.csv" and files.evidence["files"][0]["lines"] == 2
    ctx.baseline = Baseline("b", started_at=1.0, facts={"raw_files": ctx.facts["raw_files"]})
    assert raw_file_findings(ctx)[0].status == "pass"


def test_session_round_trips_and_report_lists_notes_and_done_steps(tmp_path):
    playbook = load_playbook(CONFIG)
    session = IncidentSession.start(tmp_path / "s.json", playbook, "run-2", "run-1")
    session.mark_done("code")
    session.set_notes("code", "nothing deployed since Friday")
    session.save()
    again = IncidentSession.load(tmp_path / "s.json")
    assert again.state("code").done and again.state("code").notes == "nothing deployed since Friday"
    text = markdown(again, playbook)
    assert "- [x] **Review recent commits to the dbt project**" in text and "nothing deployed since Friday" in text


def test_atomic_write_leaves_the_old_file_when_it_fails(tmp_path):
    path = tmp_path / "report.md"
    write_atomic(path, "old")
    with pytest.raises(TypeError):
        write_atomic(path, 123)  # not text: the write fails half way
    assert path.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["report.md"]
