"""The manifest reader on a real manifest written by `dbt parse` of a small throwaway project."""

import subprocess
import sys
from pathlib import Path

import pytest

from tui.core.project import ManifestMissing, load_project

MODELS = {
    "staging/stg_orders.sql": "select 1 as order_id, 10 as customer_id",
    "staging/stg_customers.sql": "select 10 as customer_id",
    "marts/fct_orders.sql": "select o.* from {{ ref('stg_orders') }} o join {{ ref('stg_customers') }} c using (customer_id)",
}
SCHEMA = """
version: 2
models:
  - name: stg_orders
    description: One row per order.
    columns:
      - name: order_id
        description: Key.
        data_tests: [unique, not_null]
  - name: fct_orders
    description: Orders with customers.
    config: {materialized: table}
exposures:
  - name: customer_list
    type: dashboard
    owner: {name: Sales, email: sales@example.com}
    depends_on: ["ref('stg_customers')"]
"""


@pytest.fixture(scope="module")
def parsed(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tiny")
    (root / "dbt_project.yml").write_text("name: tiny\nversion: '1.0'\nprofile: tiny\n")
    (root / "profiles.yml").write_text(
        f"tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {root / 'w.duckdb'}\n"
    )
    for rel, sql in MODELS.items():
        (root / "models" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "models" / rel).write_text(sql)
    (root / "models" / "staging" / "_staging__models.yml").write_text(SCHEMA)
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "dbt"), "parse", "--project-dir", str(root), "--profiles-dir", str(root)],
        check=True, capture_output=True, env={"DO_NOT_TRACK": "1", "PATH": str(bin_dir), "HOME": str(root)},
    )
    return root / "target"


def test_nodes_come_in_dag_order_with_layers(parsed):
    project = load_project(parsed)
    names = [n.name for n in project.in_dag_order(("model",))]
    assert names.index("fct_orders") > names.index("stg_orders")
    assert names.index("fct_orders") > names.index("stg_customers")
    # layers from the DAG: stg_customers is read by fct_orders but feeds an exposure, so it is final too
    assert {n.name: n.layer for n in project.in_dag_order(("model",))} == {
        "stg_orders": "staging", "stg_customers": "marts", "fct_orders": "marts",
    }
    assert project.group_order() == ["staging", "marts", "tests"]


def test_lineage_tests_and_columns(parsed):
    project = load_project(parsed)
    fct = project.find("fct_orders")
    stg = project.find("stg_orders")
    assert fct.materialized == "table"
    assert set(project.upstream(fct.unique_id)) == {stg.unique_id, project.find("stg_customers").unique_id}
    assert project.downstream(stg.unique_id) == [fct.unique_id]
    assert [(t.test_name, t.column) for t in project.tests_of(stg.unique_id)] == [("not_null", "order_id"), ("unique", "order_id")]
    assert [c.name for c in stg.columns] == ["order_id"]
    assert "ref('stg_orders')" in project.source_sql(fct.unique_id)


def test_missing_manifest_is_a_clear_error(tmp_path):
    with pytest.raises(ManifestMissing, match="parse or build"):
        load_project(tmp_path)
