"""Incremental loads equal a full refresh, whatever the delivery order.

The sequence is the incident's: a baseline, then a partner feed for date D whose last_updated runs
late into the day, then the regular feed of the same date D delivered afterwards (earlier
last_updated values: an event-time watermark skipped most of it), then the next day. After each
load the claims staging table is checked against the newest version of every claim computed with
plain Python from the raw files; at the end every table of the incremental warehouse equals a full
refresh of the same files, and a run with no new file changes nothing.
"""

from __future__ import annotations

import csv
import json
import shutil
from datetime import date

import duckdb
import pytest
from dbt_raw_expectations import _claim
from dbt_workspace_run import DbtRun

from tui.core.generator import add_next_day, generate

pytestmark = pytest.mark.slow

INCREMENTAL = ("base_benefits__claims", "stg_benefits__claims", "stg_benefits__employees")
LOAD_STAMPS = ("dbt_inserted_at", "dbt_updated_at", "dbt_job_id")  # when and by which run a row was written


def newest_claims(raw) -> dict[int, tuple]:
    """claim_id -> (last_updated, file, line, amount) of its newest version: the greatest
    (last_updated, file name, line) over every accepted line of every claims file."""
    newest: dict[int, tuple] = {}
    for path in sorted((raw / "claims").glob("*.jsonl")):
        for number, text in enumerate(path.read_text().splitlines(), start=1):
            try:
                claim = _claim(json.loads(text))
            except (ValueError, KeyError, TypeError, ArithmeticError):
                continue
            version = (claim["last_updated"], path.name, number, claim["amount"])
            if claim["claim_id"] not in newest or version[:3] > newest[claim["claim_id"]][:3]:
                newest[claim["claim_id"]] = version
    return newest


def staged_claims(run: DbtRun) -> dict[int, tuple]:
    return {r[0]: r[1:] for r in run.query(
        "select claim_id, last_updated, source_file, source_line, amount from stg_benefits__claims")}


def audit(run: DbtRun, model: str) -> list[tuple]:
    return run.query("select run_mode, rows_inserted, rows_updated, files_loaded from dbt_audit.incremental_runs "
                     "where model = ? order by recorded_at", [model])


def load(run: DbtRun) -> None:
    assert run.invoke("run", "-s", *INCREMENTAL).success


@pytest.fixture(scope="module")
def sequence(tmp_path_factory):
    """(incremental run, full refresh run, what each step changed), after the whole sequence."""
    source = tmp_path_factory.mktemp("incident_source")
    generate(source, "incident", size="test", days=6)
    inc = DbtRun(tmp_path_factory.mktemp("incremental"))
    shutil.copytree(source, inc.raw, ignore=shutil.ignore_patterns("*_partner.jsonl"))
    inc.build()
    steps = {"baseline": staged_claims(inc)}
    assert steps["baseline"] == newest_claims(inc.raw)

    partner = next((source / "claims").glob("*_partner.jsonl"))
    shutil.copy2(partner, inc.raw / "claims" / partner.name)
    load(inc)
    steps["partner"] = staged_claims(inc)
    regular = add_next_day(inc.raw).files[0]
    assert partner.name.startswith(regular.split("/")[-1].removesuffix(".jsonl")), "same date D"
    load(inc)
    steps["regular"] = staged_claims(inc)
    add_next_day(inc.raw)
    inc.build()
    steps["next_day"] = staged_claims(inc)

    full = DbtRun(tmp_path_factory.mktemp("full_refresh"))
    shutil.copytree(inc.raw, full.raw)
    full.build("--full-refresh")
    return inc, full, steps, partner.name, regular.split("/")[-1]


def test_the_regular_feed_after_a_later_partner_feed_of_its_date_is_loaded_whole(sequence):
    inc, _, steps, partner, regular = sequence
    lines = (inc.raw / "claims" / partner).read_text().splitlines()
    late = max(json.loads(line)["last_updated"] for line in lines)
    regular_lines = (inc.raw / "claims" / regular).read_text().splitlines()
    assert sum(json.loads(line)["last_updated"] < late for line in regular_lines) > len(regular_lines) / 2, \
        "the partner feed's newest last_updated is later than most of the regular feed"
    raw_until_regular = inc.raw.parent / "raw_until_regular"
    shutil.copytree(inc.raw, raw_until_regular, ignore=shutil.ignore_patterns(
        *[p.name for p in (inc.raw / "claims").glob("*.jsonl") if p.name > regular and p.name != partner]))
    assert steps["regular"] == newest_claims(raw_until_regular)
    from_regular = sum(1 for version in steps["regular"].values() if version[1] == regular)
    assert from_regular == len({json.loads(line)["claim_id"] for line in regular_lines})


def test_every_step_holds_the_newest_version_of_every_claim(sequence):
    inc, _, steps, _, _ = sequence
    assert steps["next_day"] == newest_claims(inc.raw)
    before, after = steps["partner"], steps["regular"]
    inserted = len(after.keys() - before.keys())
    updated = sum(1 for key in before.keys() & after.keys() if before[key] != after[key])
    runs = audit(inc, "stg_benefits__claims")
    assert runs[0][0] == "full_refresh" and runs[2] == ("incremental", inserted, updated, 1)
    assert updated > 0, "the regular feed re-delivers earlier claims with a new status"


def test_every_table_equals_a_full_refresh(sequence):
    inc, full, _, _, _ = sequence
    with duckdb.connect() as con:
        con.execute(f"attach '{inc.warehouse}' as inc (read_only)")
        con.execute(f"attach '{full.warehouse}' as fr (read_only)")
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where database_name = 'fr' and schema_name = 'main'").fetchall()]
        assert {"base_benefits__claims", "stg_benefits__claims", "stg_benefits__employees", "fct_claims",
                "fct_feed_loads", "stg_benefits__rejects"} <= set(tables)
        for table in tables:
            columns = [r[0] for r in con.execute(
                "select column_name from duckdb_columns() where database_name = 'fr' and table_name = ? "
                "order by column_index", [table]).fetchall() if r[0] not in LOAD_STAMPS]
            select = ", ".join(f'"{c}"' for c in columns)
            differences = con.execute(f"""select count(*) from (
                (select {select} from inc.main.{table} except all select {select} from fr.main.{table})
                union all
                (select {select} from fr.main.{table} except all select {select} from inc.main.{table}))""").fetchone()[0]
            rows = con.execute(f"select count(*) from fr.main.{table}").fetchone()[0]
            assert differences == 0, f"{table}: {differences} rows differ (of {rows})"


def test_updated_rows_keep_their_first_load_time(sequence):
    inc, _, steps, _, _ = sequence
    loads = inc.scalar("select count(distinct dbt_inserted_at) from stg_benefits__claims")
    assert loads == 4, "baseline, partner, regular feed and next day"
    baseline_ids = sorted(steps["baseline"])
    updated_since = [key for key in baseline_ids if steps["next_day"][key] != steps["baseline"][key]]
    assert updated_since, "later feeds re-deliver baseline claims"
    first_loads = inc.query("select distinct dbt_inserted_at from stg_benefits__claims "
                            "where list_contains(?, claim_id)", [baseline_ids])
    assert len(first_loads) == 1, "a replaced claim keeps the time it was first loaded"


def test_a_run_with_no_new_file_inserts_and_updates_nothing(sequence):
    inc, _, _, _, _ = sequence
    before = inc.query("select * exclude (dbt_inserted_at, dbt_updated_at, dbt_job_id) from stg_benefits__claims "
                       "order by claim_id")
    load(inc)
    for model in INCREMENTAL:
        assert audit(inc, model)[-1] == ("incremental", 0, 0, 0), model
    assert inc.query("select * exclude (dbt_inserted_at, dbt_updated_at, dbt_job_id) from stg_benefits__claims "
                     "order by claim_id") == before


def _rewrite_employees(path, change) -> dict[int, list[str]]:
    with path.open(newline="") as handle:
        header, *rows = list(csv.reader(handle))
    rows = change(rows)
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([header, *rows])
    return {int(r[0]): r for r in rows}


def test_employees_delivered_again_load_new_and_newer_rows_whatever_the_newest_timestamp(fresh_run):
    """employees.csv comes whole again: a new hire stamped earlier than the newest row already loaded
    is loaded (a last_updated watermark skipped it), a newer change replaces the stored row, and an
    older version of a row does not overwrite the stored one."""
    generate(fresh_run.raw, "baseline", companies=3, employees=60, claims_per_day=40, days=3)
    fresh_run.build()
    stored = {r[0]: r[1:] for r in fresh_run.query("select employee_id, department, last_updated "
                                                   "from stg_benefits__employees")}
    newest = max(stamp for _, stamp in stored.values())

    def change(rows):
        rows[0][5], rows[0][8] = "Research", "2031-01-01T00:00:00Z"  # newer: replaces
        rows[1][5], rows[1][8] = "Archive", "2001-01-01T00:00:00Z"  # older than stored: ignored
        hire = [*rows[2]]
        hire[0], hire[8] = "777777", "2001-06-01T00:00:00Z"  # new employee, old timestamp: loaded
        return [*rows, hire]

    delivered = _rewrite_employees(fresh_run.raw / "employees.csv", change)
    first, second = list(delivered)[:2]
    assert date(2001, 6, 1) < newest.date()
    assert fresh_run.invoke("run", "-s", "base_benefits__employees", "stg_benefits__employees").success
    got = {r[0]: r[1:] for r in fresh_run.query("select employee_id, department, last_updated "
                                                "from stg_benefits__employees")}
    assert got[777777][0] == delivered[777777][5]
    assert got[first][0] == "Research"
    assert got[second] == stored[second]
    assert {k: v for k, v in got.items() if k not in (777777, first)} == {
        k: v for k, v in stored.items() if k != first}
    assert audit(fresh_run, "stg_benefits__employees")[-1] == ("incremental", 1, 1, 0)
