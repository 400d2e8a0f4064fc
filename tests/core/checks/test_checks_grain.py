"""The fan-out check takes a model's grain from what the dbt project declares (a unique-combination
test, a unique test on an expression, a contract's primary key, an incremental's unique_key), and
infers it (a carried key, alone or by day) only when nothing is declared. On a small shop project
built by real dbt: a one-day baseline then a second day reports no fan-out (the key repeats once a
day by design), and duplicated customers joined in fail the declared and the inferred grains."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest
from tiny_dbt import write_duckdb_project

from tui.core.checks.triage import run_checks
from tui.core.generator import add_next_day, generate
from tui.core.workspace import Workspace

from triage_workspaces import build as build_benefits, workspace

ORDERS_PER_DAY, CUSTOMERS, DUPLICATED = 120, 20, 4
DAILY = ("select o.customer_id, o.order_date, c.customer_name, count(*) as orders, sum(o.amount) as amount "
         "from {{ ref('stg_orders') }} o join {{ ref('stg_customers') }} c using (customer_id) group by all")
MODELS = {
    "staging/stg_orders.sql": f"select range as order_id, range % {CUSTOMERS} as customer_id, "
                              f"date '2025-01-06' + (range // {ORDERS_PER_DAY})::int as order_date, (range % 9) * 5.0 as amount "
                              f"from range({ORDERS_PER_DAY} * {{{{ var('days', 1) }}}})",
    "staging/stg_customers.sql": f"select range as customer_id, 'Customer ' || range as customer_name from range({CUSTOMERS}) "
                                 f"union all select range, 'Copy ' || range from range({DUPLICATED}) where {{{{ var('dup', 0) }}}} = 1",
    "marts/fct_orders.sql": "select o.*, c.customer_name from {{ ref('stg_orders') }} o join {{ ref('stg_customers') }} c using (customer_id)",
    "marts/fct_customer_days.sql": DAILY,  # declares nothing: grain inferred
    "marts/fct_customer_days_tested.sql": DAILY,  # unique_combination_of_columns
    "marts/fct_customer_days_expression.sql": DAILY,  # unique test on customer_id || '-' || order_date
    "marts/fct_customer_days_incremental.sql": "{{ config(materialized='incremental', unique_key=['customer_id', 'order_date']) }} "
                                               "select customer_id, order_date, sum(amount) as amount from {{ ref('stg_orders') }} group by all",
    "marts/fct_customer_days_contract.sql": "select customer_id::bigint as customer_id, order_date, sum(amount)::double as amount "
                                            "from {{ ref('stg_orders') }} group by all",
}
GENERIC_TEST = """{% test unique_combination_of_columns(model, combination_of_columns) %}
select {{ combination_of_columns | join(', ') }} from {{ model }} group by all having count(*) > 1
{% endtest %}
"""
SCHEMA = """
version: 2
models:
  - name: stg_orders
    columns:
      - name: order_id
        data_tests: [unique]
  - name: stg_customers
    columns:
      - name: customer_id
        data_tests:
          - unique: {config: {severity: warn}}
  - name: fct_customer_days_tested
    data_tests:
      - unique_combination_of_columns:
          arguments: {combination_of_columns: [customer_id, order_date]}
          config: {severity: warn}
  - name: fct_customer_days_expression
    data_tests:
      - unique:
          column_name: "customer_id || '-' || order_date"
          config: {severity: warn}
  - name: fct_customer_days_contract
    config: {contract: {enforced: true}}
    constraints:
      - {type: primary_key, columns: [customer_id, order_date]}
    columns:
      - {name: customer_id, data_type: bigint}
      - {name: order_date, data_type: date}
      - {name: amount, data_type: double}
"""
DAILY_GRAINS = {"int_claims_aggregated_to_company_days": "company_id, claim_date", "fct_claims_daily": "company_id, day"}
DECLARED = {"fct_customer_days_tested": "unique_combination_of_columns test",
            "fct_customer_days_expression": "unique test",
            "fct_customer_days_incremental": "unique_key config",
            "fct_customer_days_contract": "primary key constraint"}


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("grain-shop")
    project = root / "project"
    write_duckdb_project(project, "grain_shop", MODELS, SCHEMA)
    (project / "tests" / "generic").mkdir(parents=True)
    (project / "tests" / "generic" / "unique_combination_of_columns.sql").write_text(GENERIC_TEST)
    ws_root = root / "workspace"
    return project, ws_root, Workspace.resolve(workspace=ws_root, project_dir=project, profiles_dir=project)


def build(shop, days: int, dup: int = 0) -> None:
    project, root, _ = shop
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    done = subprocess.run([sys.executable, "-c", "from tui.cli import main; main()", "--project-dir", str(project),
                           "--profiles-dir", str(project), "--workspace", str(root), "build",
                           "--vars", f"{{days: {days}, dup: {dup}}}"],
                          cwd=project, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]


def keyed(findings, check: str) -> dict:
    return {f.object: f for f in findings if f.check == check}


@pytest.fixture(scope="module")
def second_day(shop):
    build(shop, days=1)
    first, _ = run_checks(shop[2], families=["keys"])
    build(shop, days=2)
    second, _ = run_checks(shop[2], families=["keys"])
    return first, second


def test_a_second_day_is_no_fan_out_whatever_the_grain_declaration(second_day):
    first, second = second_day
    assert keyed(first, "keys.fan_out")["fct_customer_days"].evidence["grain_key"] == "customer_id"  # one day: unique
    assert [(f.object, f.column, f.summary) for f in second if f.status == "fail"] == []
    inferred = keyed(second, "keys.fan_out")["fct_customer_days"]
    assert inferred.status == "pass" and inferred.evidence["grain_key"] == "customer_id, order_date"
    assert inferred.evidence["rows_per_key"] == 1.0 and inferred.evidence["distinct_keys"] == 2 * CUSTOMERS


def test_declared_grains_are_checked_as_keys_not_inferred(second_day):
    _, second = second_day
    duplicates = {f.object: f for f in second if f.check == "keys.duplicates" and "," in (f.column or "")}
    for model, declared_by in DECLARED.items():
        assert duplicates[model].evidence["declared_by"] == declared_by, model
        assert duplicates[model].column == "customer_id, order_date" and duplicates[model].status == "pass"
    assert not set(DECLARED) & set(keyed(second, "keys.fan_out"))


def test_duplicated_customers_fail_declared_and_inferred_grains(shop, second_day):
    build(shop, days=2, dup=1)
    third, _ = run_checks(shop[2], families=["keys"])
    warehouse = duckdb.connect(str(shop[0] / "shop.duckdb"), read_only=True)  # the profile's path
    try:  # expected numbers straight from the staging tables, not from the marts
        pairs, rows = warehouse.execute(
            "select count(*), sum(n) from (select o.customer_id, o.order_date, count(distinct c.customer_name) as n "
            "from stg_orders o join stg_customers c using (customer_id) group by all having n > 1)").fetchone()
        extra_orders = warehouse.execute("select count(*) from stg_orders o join stg_customers c using (customer_id)"
                                         ).fetchone()[0] - warehouse.execute("select count(*) from stg_orders").fetchone()[0]
    finally:
        warehouse.close()
    for model in ("fct_customer_days_tested", "fct_customer_days_expression"):
        found = next(f for f in third if f.check == "keys.duplicates" and f.object == model and "," in (f.column or ""))
        assert found.status == "fail" and (found.evidence["duplicated_keys"], found.evidence["rows_involved"]) == (pairs, rows)
    fan_out = keyed(third, "keys.fan_out")
    daily = fan_out["fct_customer_days"]
    assert daily.status == "fail" and daily.evidence["grain_key"] == "customer_id, order_date"
    assert daily.evidence["baseline_rows_per_key"] == 1.0
    orders = fan_out["fct_orders"]
    assert orders.status == "fail" and orders.column == "order_id"
    assert orders.evidence["rows"] - orders.evidence["distinct_keys"] == extra_orders > 0


def test_one_day_baseline_then_a_clean_next_day_on_the_benefits_project(tmp_path):
    """The regression of the incident-scale benchmark: with one day of claims, company_id looked
    unique in the company x day models, and a second day failed them (2.0 rows per key). They now
    declare their grain (a unique_combination_of_columns test in the project), so it is checked as
    declared on both days, never inferred; the inferred case is the shop's fct_customer_days."""
    ws = workspace(tmp_path / "one-day").ensure_dirs()
    generate(ws.raw_dir, "baseline", size="test", days=1)
    build_benefits(ws.root)
    first, _ = run_checks(ws, families=["keys"])
    add_next_day(ws.raw_dir)
    build_benefits(ws.root)
    second, _ = run_checks(ws, families=["keys"])
    assert [(f.object, f.column, f.summary) for f in first + second if f.status == "fail"] == []
    raw = duckdb.connect()  # expected grain size straight from the raw files: companies x claim days
    companies = raw.execute(f"select count(*) from read_csv('{ws.raw_dir}/companies.csv', header=true)").fetchone()[0]
    days = raw.execute(f"select max(d) - min(d) + 1 from (select cast(substr(submitted_at, 1, 10) as date) as d "
                       f"from read_json('{ws.raw_dir}/claims/*.jsonl', columns={{'submitted_at': 'VARCHAR'}}))").fetchone()[0]
    assert days >= 2
    with duckdb.connect(str(ws.warehouse), read_only=True) as warehouse:
        rows = {m: warehouse.execute(f"select count(*) from {m}").fetchone()[0] for m in DAILY_GRAINS}
    for findings in (first, second):
        assert not set(DAILY_GRAINS) & set(keyed(findings, "keys.fan_out"))
        checked = {(f.object, f.column): f for f in findings if f.check == "keys.duplicates"}
        for model, grain in DAILY_GRAINS.items():
            found = checked[(model, grain)]
            assert found.status == "pass" and found.evidence["declared_by"] == "unique_combination_of_columns test"
    assert rows == {m: companies * days for m in DAILY_GRAINS}
