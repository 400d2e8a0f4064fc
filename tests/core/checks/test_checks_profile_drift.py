"""Profiles and drift on a plain DuckDB warehouse (no dbt): numbers checked against straight SQL."""

from __future__ import annotations

import duckdb
import pytest

from tui.core.checks.config import ChecksConfig
from tui.core.checks.drift import drift_findings
from tui.core.checks.profile import EARLIER, NEWEST, TableProfile, profile_table
from tui.core.checks.sql import WarehouseError, open_warehouse
from tui.core.checks.targets import build_spec

from checks_plain_db import DAYS, PER_DAY, make_claims_db


@pytest.fixture(scope="module")
def config():
    return ChecksConfig.load()


def claims_spec(runner, config):
    return build_spec(runner, config, object="claims", relation='"w"."main"."claims"', layer="staging",
                      declared={"amount": "double"}, categorical={"severity"})


@pytest.fixture(scope="module")
def defective(tmp_path_factory, config):
    path = make_claims_db(tmp_path_factory.mktemp("w") / "w.duckdb", defects=True)
    runner = open_warehouse(path)
    yield runner, profile_table(runner, claims_spec(runner, config), config)
    runner.close()


def test_profile_splits_newest_delivery_and_matches_sql(defective):
    runner, profile = defective
    assert profile.rows == (DAYS + 1) * PER_DAY
    assert profile.newest == f"claims_{DAYS:03d}.jsonl"
    assert profile.groups[NEWEST]["rows"] == PER_DAY and profile.groups[EARLIER]["rows"] == DAYS * PER_DAY
    expected = runner.one("SELECT count(*) FILTER (WHERE plan_id IS NULL) AS n, max(amount) AS mx FROM claims "
                          f"WHERE source_file = 'claims_{DAYS:03d}.jsonl'", "expected")
    plan = profile.column(NEWEST, "plan_id")
    assert plan["nulls"] == expected["n"] > 0
    assert profile.column(NEWEST, "amount")["max"] == pytest.approx(expected["mx"])
    assert profile.column(EARLIER, "plan_id")["nulls"] == 0


def test_personal_columns_keep_counts_only(defective):
    _, profile = defective
    first_name = profile.column(EARLIER, "first_name")
    assert set(first_name) <= {"nulls", "null_rate", "distinct"}
    assert "Person" not in str(profile.to_dict())


def test_profile_round_trips_through_json(defective):
    _, profile = defective
    import json

    again = TableProfile.from_dict(json.loads(json.dumps(profile.to_dict())))
    assert again == profile


def test_drift_names_each_injected_defect(defective, config):
    _, profile = defective
    found = {(f.check, f.column): f for f in drift_findings([profile], {}, config)}
    assert found[("drift.null_rate", "plan_id")].status == "fail"
    assert found[("drift.distribution", "amount")].status == "fail"
    assert "new values urgent" in found[("drift.categories", "severity")].summary
    assert found[("drift.range", "service_date")].status == "fail"
    assert ("drift.null_rate", "employee_id") not in found


def test_clean_next_day_has_no_drift(tmp_path, config):
    runner = open_warehouse(make_claims_db(tmp_path / "w.duckdb", defects=False))
    profile = profile_table(runner, claims_spec(runner, config), config)
    findings = drift_findings([profile], {}, config)
    assert [f.status for f in findings] == ["pass"], [f.summary for f in findings]


def test_baseline_comparison_catches_a_defect_in_a_table_without_deliveries(tmp_path, config):
    clean = open_warehouse(make_claims_db(tmp_path / "a.duckdb", defects=False, new_day=False), catalog="w")
    spec = claims_spec(clean, config)
    nofile = lambda s: s.__class__(**{**s.__dict__, "delivery_column": None})  # noqa: E731
    baseline = profile_table(clean, nofile(spec), config)
    broken = open_warehouse(make_claims_db(tmp_path / "b.duckdb", defects=True), catalog="w")
    current = profile_table(broken, nofile(claims_spec(broken, config)), config)
    checks = {(f.check, f.column): f.status for f in drift_findings([current], {"claims": baseline}, config)}
    assert checks[("drift.categories", "severity")] == "warn"
    assert checks[("drift.null_rate", "plan_id")] == "warn"  # 20 nulls diluted in 4,400 rows, none before


def test_locked_warehouse_is_one_line(tmp_path):
    path = make_claims_db(tmp_path / "w.duckdb", defects=False)
    import subprocess, sys  # noqa: E401

    holder = subprocess.Popen([sys.executable, "-c", f"import duckdb,time; c=duckdb.connect({str(path)!r}); print('x', flush=True); time.sleep(30)"],
                              stdout=subprocess.PIPE)
    try:
        holder.stdout.readline()
        with pytest.raises(WarehouseError) as error:
            open_warehouse(path)
        assert f"PID {holder.pid}" in str(error.value) and "\n" not in str(error.value)
    finally:
        holder.kill()


def test_text_ids_that_stop_being_plain_integers_fail_their_intended_type(tmp_path, config):
    path = tmp_path / "raw.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("""CREATE TABLE raw_claims AS
        SELECT CASE WHEN d = 5 AND i % 3 = 0 THEN lpad(i::VARCHAR, 6, '0') ELSE i::VARCHAR END AS employee_id,
               (i * 1.5)::VARCHAR AS amount, format('c{}.jsonl', d) AS _source_file
        FROM range(6) t(d), range(1, 301) u(i)""")
    conn.close()
    runner = open_warehouse(path)
    spec = build_spec(runner, config, object="raw.claims", relation="raw_claims", layer="sources",
                      declared={}, categorical=set())
    findings = drift_findings([profile_table(runner, spec, config)], {}, config)
    typed = [f for f in findings if f.check == "drift.type"]
    assert [(f.column, f.status) for f in typed] == [("employee_id", "fail")]
    assert typed[0].evidence["nonconforming"] == 100  # every i % 3 == 0 in 1..300 was zero-padded
