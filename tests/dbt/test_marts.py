"""The baseline build against expectations computed straight from the raw files."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dbt_raw_expectations import RawFeeds

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def raw(baseline) -> RawFeeds:
    return RawFeeds(baseline.raw)


def test_only_the_intended_deprecation_warning(baseline):
    assert len(baseline.warnings) == 1, baseline.warnings
    assert "fct_claims_daily" in baseline.warnings[0] and "deprecation" in baseline.warnings[0]


def test_rejects_hold_every_malformed_line_with_file_line_and_reason(baseline, raw):
    rows = baseline.query("select source_file, source_line, reject_reason from stg_benefits__rejects")
    assert {(f, line) for f, line, _ in rows} == raw.rejects
    reasons = {r for _, _, r in rows}
    assert {"invalid_json", "invalid_amount", "invalid_service_date", "wrong_column_count"} <= reasons


def test_rows_read_equal_rows_staged_plus_rows_rejected(baseline, raw):
    loads = dict(((f, (read, ok, bad)) for f, read, ok, bad in baseline.query(
        "select source_file, lines_read, rows_accepted, rows_rejected from fct_feed_loads where feed <> 'plans'")))
    assert {f: v[0] for f, v in loads.items()} == raw.lines_per_file
    rejected = {f: sum(1 for file, _ in raw.rejects if file == f) for f in raw.lines_per_file}
    assert {f: v[2] for f, v in loads.items()} == rejected
    staged_versions = baseline.scalar("select count(*) from base_benefits__claims where reject_reason is null")
    assert staged_versions == len(raw.claim_versions)
    assert baseline.scalar("select count(*) from stg_benefits__claims") == len(raw.latest_claims())


def test_claim_totals_per_company(baseline, raw):
    got = dict(baseline.query("select company_id, sum(amount) from fct_claims group by all"))
    assert got == raw.totals_per_company()
    daily = dict(baseline.query("select company_id, sum(total_amount) from fct_company_daily_claims group by all"))
    assert {k: v for k, v in daily.items() if v} == raw.totals_per_company()


def test_coverage_gaps(baseline, raw):
    got = dict(baseline.query("select gap_type, count(*) from fct_coverage_gaps group by all"))
    expected = raw.coverage_gap_counts()
    assert got == expected
    assert expected["claim_without_coverage"] > 0 and expected["gap_between_periods"] > 0


def test_plan_mismatches(baseline, raw):
    got = dict(baseline.query("select mismatch_reason, count(*) from fct_plan_mismatches group by all"))
    expected = raw.mismatch_counts()
    assert got == expected
    assert expected.get("not_enrolled_plan", 0) > 0 and expected.get("plan_not_offered_by_company", 0) > 0


def test_claim_spikes(baseline, raw):
    got = set(baseline.query("select company_id, claim_date from fct_claim_spikes"))
    expected = raw.spike_days()
    assert got == expected
    assert expected, "the baseline injects bursts: the spike mart must not be empty"


def test_daily_totals_cover_every_company_day(baseline, raw):
    got = {(c, d): v for c, d, v in baseline.query(
        "select company_id, claim_date, total_amount from fct_company_daily_claims")}
    assert got == raw.daily_totals()
    assert sum(got.values()) > Decimal(0)


def test_audit_rows_for_each_incremental_model(baseline, raw):
    rows = baseline.query("select model, run_mode, rows_before, rows_after, rows_inserted, rows_updated, "
                          "watermark_after, files_loaded from dbt_audit.incremental_runs order by model")
    assert [r[:2] for r in rows] == [("base_benefits__claims", "full_refresh"), ("stg_benefits__claims", "full_refresh"),
                                     ("stg_benefits__employees", "full_refresh")]
    claim_files = {f: n for f, n in raw.lines_per_file.items() if f.endswith(".jsonl")}
    lines = sum(claim_files.values())
    assert rows[0][2:6] == (0, lines, lines, 0) and rows[0][7] == len(claim_files)
    claims = rows[1]
    latest = raw.latest_claims()
    assert claims[2:6] == (0, len(latest), len(latest), 0) and claims[7] == len(claim_files)
    assert claims[6] == max(c["last_updated"] for c in latest.values())
    assert rows[2][3] == len(raw.employees)
    loaded = baseline.query("select model, source_file, lines from dbt_audit.loaded_files order by all")
    assert loaded == sorted((m, f, n) for m in ("base_benefits__claims", "stg_benefits__claims")
                            for f, n in claim_files.items())


def test_metadata_columns_and_normalised_ids(baseline):
    job_ids = baseline.query("select distinct dbt_job_id from stg_benefits__claims")
    assert len(job_ids) == 1 and len(job_ids[0][0]) == 36
    assert baseline.scalar("select count(*) from stg_benefits__claims where source_file not like 'claims_%.jsonl'") == 0
