"""Every date watched, on a plain DuckDB warehouse (no dbt): a delivery whose dates sit a year away
from where earlier deliveries put them, or where submitted comes before service for a share of rows,
is a date_shift; a clean delivery is not. Zero-padded ids show as a shape. Numbers from straight SQL."""

from __future__ import annotations

import duckdb
import pytest

from tui.core.checks.causes import build_causes
from tui.core.checks.config import ChecksConfig
from tui.core.checks.drift import drift_findings
from tui.core.checks.profile import profile_table
from tui.core.checks.sql import open_warehouse
from tui.core.checks.targets import build_spec

NEWEST = "claims_2025-01-20.jsonl"


@pytest.fixture(scope="module")
def config():
    return ChecksConfig.load()


def findings_for(path, newest_change: str | None, config):
    conn = duckdb.connect(str(path))
    conn.execute("""CREATE TABLE claims AS
        SELECT d * 1000 + i AS claim_id, DATE '2025-01-06' + d::INTEGER - (i % 5)::INTEGER AS service_date,
               (DATE '2025-01-06' + d::INTEGER - (i % 5)::INTEGER + 2)::TIMESTAMP AS submitted_at,
               format('claims_{}.jsonl', strftime(DATE '2025-01-06' + d::INTEGER, '%Y-%m-%d')) AS source_file
        FROM range(15) t(d), range(300) u(i)""")
    if newest_change:
        conn.execute(f"UPDATE claims SET {newest_change} WHERE source_file = '{NEWEST}'")
    conn.close()
    runner = open_warehouse(path)
    try:
        spec = build_spec(runner, config, object="stg_claims", relation="claims", layer="staging", declared={}, categorical=set())
        return [f for f in drift_findings([profile_table(runner, spec, config)], {}, config) if f.status != "pass"]
    finally:
        runner.close()


def sql(path, query: str):
    with duckdb.connect(str(path), read_only=True) as conn:
        return conn.execute(query).fetchone()[0]


LAG = "date_diff('day', strptime(regexp_extract(source_file, '[0-9]{4}-[0-9]{2}-[0-9]{2}'), '%Y-%m-%d')::DATE, service_date)"


def test_dates_a_year_away_from_earlier_deliveries_are_a_date_shift(tmp_path, config):
    path = tmp_path / "w.duckdb"
    found = findings_for(path, "service_date = service_date + 365", config)
    lag = next(f for f in found if f.check == "drift.dates" and f.column == "service_date")
    expected = sql(path, f"SELECT median({LAG}) FILTER (WHERE source_file = '{NEWEST}') - "
                         f"median({LAG}) FILTER (WHERE source_file <> '{NEWEST}') FROM claims")
    assert lag.status == "fail" and lag.evidence["shift_days"] == pytest.approx(expected)
    assert [c.kind for c in build_causes(found) if c.column == "service_date"][:1] == ["date_shift"]


def test_submitted_before_service_in_a_share_of_rows_is_a_date_shift(tmp_path, config):
    path = tmp_path / "w.duckdb"
    found = findings_for(path, "submitted_at = CASE WHEN claim_id % 10 = 0 THEN submitted_at - INTERVAL 10 DAY "
                               "ELSE submitted_at END", config)
    flip = next(f for f in found if f.check == "drift.date_order")
    expected = sql(path, f"SELECT count_if(submitted_at < service_date) FROM claims WHERE source_file = '{NEWEST}'")
    assert (flip.column, flip.evidence["other_column"], flip.evidence["flipped"]) == ("service_date", "submitted_at", expected)
    assert flip.status == "fail"


def test_a_clean_delivery_draws_no_date_finding(tmp_path, config):
    found = findings_for(tmp_path / "w.duckdb", None, config)
    assert [f.summary for f in found if f.check.startswith("drift.date")] == []


def test_zero_padded_ids_show_as_a_shape_never_a_value(tmp_path, config):
    path = tmp_path / "raw.duckdb"
    with duckdb.connect(str(path)) as conn:
        conn.execute("""CREATE TABLE raw_claims AS
            SELECT CASE WHEN d = 5 AND i % 3 = 0 THEN lpad(i::VARCHAR, 6, '0') ELSE i::VARCHAR END AS employee_id,
                   format('c{}.jsonl', d) AS _source_file FROM range(6) t(d), range(1, 301) u(i)""")
    zeros = sql(path, "SELECT median(length(employee_id) - length(ltrim(employee_id, '0'))) FROM raw_claims "
                      "WHERE employee_id LIKE '0%'")
    runner = open_warehouse(path)
    spec = build_spec(runner, config, object="raw.claims", relation="raw_claims", layer="sources", declared={}, categorical=set())
    typed = next(f for f in drift_findings([profile_table(runner, spec, config)], {}, config) if f.check == "drift.type")
    runner.close()
    assert typed.evidence["shape"] == "0" * int(zeros) + "N" * (6 - int(zeros))
    assert "shape " + typed.evidence["shape"] in build_causes([typed])[0].summary
