"""Incremental merge: a run after a new feed equals a full refresh; the audit counts the delta."""

from __future__ import annotations

import duckdb
import pytest
from dbt_workspace_run import DbtRun

from tui.core.generator import add_next_day, generate

pytestmark = pytest.mark.slow

COMPARED = {
    "stg_benefits__claims": "* exclude (dbt_inserted_at, dbt_updated_at, dbt_job_id)",
    "stg_benefits__employees": "* exclude (dbt_inserted_at, dbt_updated_at, dbt_job_id)",
    "fct_claims": "*",
    "fct_company_daily_claims": "*",
    "fct_coverage_gaps": "*",
    "fct_plan_mismatches": "*",
    "fct_claim_spikes": "*",
}


def _differences(left, right, table: str, columns: str) -> int:
    with duckdb.connect() as con:
        con.execute(f"attach '{left}' as a (read_only)")
        con.execute(f"attach '{right}' as b (read_only)")
        return con.execute(f"""select count(*) from (
            (select {columns} from a.main.{table} except all select {columns} from b.main.{table})
            union all
            (select {columns} from b.main.{table} except all select {columns} from a.main.{table}))""").fetchone()[0]


def test_incremental_run_after_a_new_feed_equals_a_full_refresh(tmp_path_factory):
    incremental = tmp_path_factory.mktemp("incremental")
    full = tmp_path_factory.mktemp("full")
    inc, ref = DbtRun(incremental), DbtRun(full)
    generate(inc.raw, "baseline", size="test", days=14)
    inc.build()
    before = set(r[0] for r in inc.query("select claim_id from stg_benefits__claims"))
    added = add_next_day(inc.raw)
    inc.build()

    generate(ref.raw, "baseline", size="test", days=15)
    ref.build("--full-refresh")

    for table, columns in COMPARED.items():
        assert _differences(inc.warehouse, ref.warehouse, table, columns) == 0, table
    assert inc.scalar("select count(*) from stg_benefits__claims") == ref.scalar(
        "select count(*) from stg_benefits__claims")

    new_file = added.files[0].split("/")[-1]
    ids = [r[0] for r in inc.query(
        f"select (j->>'claim_id')::bigint from (select line::json j from read_csv('{inc.raw}/{added.files[0]}', "
        "columns={'line': 'VARCHAR'}, delim=chr(31), quote='', header=false, auto_detect=false))")]
    resent = len(set(ids) & before)
    assert resent > 0, "the next day re-delivers earlier claims with a new status"
    audit = inc.query("select run_mode, rows_inserted, rows_updated from dbt_audit.incremental_runs "
                      "where model = 'stg_benefits__claims' order by recorded_at")
    assert audit == [("full_refresh", len(before), 0), ("incremental", len(set(ids)) - resent, resent)]
    assert inc.scalar(f"select count(*) from stg_benefits__claims where source_file = '{new_file}'") == len(set(ids))
    inserted_at_kept = inc.scalar("select count(distinct dbt_inserted_at) from stg_benefits__claims")
    assert inserted_at_kept == 2, "updated rows keep their first dbt_inserted_at"
