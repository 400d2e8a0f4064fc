"""The checks on another dbt project (a small shop, nothing of the benefits domain): every family
runs, personal columns stay counts only, and a duplicated dimension that fans out a join is found."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_dbt import write_duckdb_project

from tui.core.checks.triage import run_checks
from tui.core.workspace import Workspace

MODELS = {
    "staging/stg_orders.sql": "select range as order_id, range % 50 as customer_id, (range % 7) * 10.0 as amount, "
                              "['placed', 'shipped', 'returned'][(range % 3)::int + 1] as status from range(2000)",
    "staging/stg_customers.sql": "select range as customer_id, 'Customer ' || range as customer_name from range(50) "
                                 "union all select range, 'Customer ' || range from range(5) where {{ var('dup', 0) }} = 1",
    "marts/fct_orders.sql": "{{ config(materialized='table') }} select o.*, c.customer_name from {{ ref('stg_orders') }} o "
                            "left join {{ ref('stg_customers') }} c using (customer_id)",
}
SCHEMA = """
version: 2
models:
  - name: stg_orders
    columns:
      - name: order_id
        data_tests: [unique, not_null]
      - name: status
        data_tests:
          - accepted_values: {arguments: {values: [placed, shipped, returned]}}
  - name: stg_customers
    columns:
      - name: customer_id
        data_tests: [unique]
  - name: fct_orders
    columns:
      - name: customer_id
        data_tests:
          - relationships: {arguments: {to: "ref('stg_customers')", field: customer_id}}
"""


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    root = tmp_path_factory.mktemp("shop")
    project = root / "project"
    write_duckdb_project(project, "shop", MODELS, SCHEMA)
    return project, root / "workspace"


def run(project: Path, workspace: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    done = subprocess.run([sys.executable, "-c", "from tui.cli import main; main()", "--project-dir", str(project),
                           "--profiles-dir", str(project), "--workspace", str(workspace), *args],
                          cwd=project, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-1500:] + done.stderr[-1500:]


def test_checks_run_on_another_project_and_find_its_fan_out(shop):
    project, root = shop
    ws = Workspace.resolve(workspace=root, project_dir=project, profiles_dir=project)
    run(project, root, "run")
    clean, _ = run_checks(ws)
    assert not [f for f in clean if "could not run" in f.summary]
    assert not [f for f in clean if f.status == "fail"], [f.summary for f in clean if f.status == "fail"]
    assert {f.object for f in clean if f.check == "profile"} == {"stg_orders", "stg_customers", "fct_orders"}
    assert "Customer 1" not in json.dumps([f.to_dict() for f in clean])

    run(project, root, "run", "--vars", "{dup: 1}")
    broken, _ = run_checks(ws)
    fails = {(f.check, f.object, f.column) for f in broken if f.status == "fail"}
    assert ("keys.duplicates", "stg_customers", "customer_id") in fails
    assert ("keys.fan_out", "fct_orders", "order_id") in fails
