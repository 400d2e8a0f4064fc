"""A tiny throwaway dbt-duckdb project for tests: proof that the core works on any dbt project."""

from __future__ import annotations

from pathlib import Path

TINY_FILES = {
    "dbt_project.yml": "name: tiny\nversion: '1.0'\nprofile: tiny\nflags:\n  send_anonymous_usage_stats: false\n",
    "profiles.yml": (
        "tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('PIPELINE_TUI_WAREHOUSE') }}\"\n      threads: 2\n"
        "      settings:\n        enable_progress_bar: false\n"
    ),
    "seeds/raw_items.csv": "id,name,price\n1,apple,3\n2,pear,5\n3,plum,2\n4,fig,7\n",
    "models/staging/stg_items.sql": "select id, name, price from {{ ref('raw_items') }}",
    "models/marts/fct_items.sql": (
        "{{ config(materialized='table') }}\nselect id, upper(name) as name, price * 2 as price2\n"
        "from {{ ref('stg_items') }}"
    ),
    "models/marts/fct_items_inc.sql": (
        "{{ config(materialized='incremental', unique_key='id') }}\nselect id, price from {{ ref('stg_items') }}\n"
        "{% if is_incremental() %} where id > (select coalesce(max(id), 0) from {{ this }}) {% endif %}"
    ),
    "models/marts/_marts__models.yml": (
        "version: 2\nmodels:\n  - name: fct_items\n    columns:\n      - name: id\n"
        "        data_tests: [unique, not_null]\n"
    ),
}
TINY_ROWS = 4  # rows of raw_items.csv, hence of every model
SLOW_SQL = "{{ config(materialized='table') }}\nselect sum(a.i * b.i) as s from range(200000) a(i), range(200000) b(i)"
# about a second of DuckDB work: runs long enough for requests to arrive while one is running
SLOWISH_SQL = "{{ config(materialized='table') }}\nselect sum(a.i * b.i) as s from range(30000) a(i), range(30000) b(i)"


def make_tiny_dbt_project(root: Path, extra: dict[str, str] | None = None) -> Path:
    for rel, text in {**TINY_FILES, **(extra or {})}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def write_duckdb_project(project: Path, name: str, models: dict[str, str], schema: str) -> Path:
    """A table-materialised dbt project `name` on DuckDB (file from env SHOP_DB) with these models
    (paths under models/) and one `models/_models.yml`."""
    (project / "models").mkdir(parents=True, exist_ok=True)
    (project / "dbt_project.yml").write_text(f"name: {name}\nversion: '1.0'\nprofile: {name}\n"
                                             f"models:\n  {name}:\n    +materialized: table\n")
    (project / "profiles.yml").write_text(f"{name}:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                          "      path: \"{{ env_var('SHOP_DB', 'shop.duckdb') }}\"\n")
    for rel, sql in models.items():
        (project / "models" / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / "models" / rel).write_text(sql)
    (project / "models" / "_models.yml").write_text(schema)
    return project
