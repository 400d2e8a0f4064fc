"""Fixtures for the TUI tests: a real parsed dbt project and apps built on it."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from tui.app import PipelineApp
from tui.core.project import load_project

from tui_helpers import fixed_app


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem):
    """Run `async def` tests (Textual's Pilot is async) without an extra pytest plugin."""
    if inspect.iscoroutinefunction(pyfuncitem.obj):
        args = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}
        asyncio.run(pyfuncitem.obj(**args))
        return True
    return None


MODELS = {
    "staging/stg_claims.sql": "select range as claim_id, range % 7 as employee_id, range % 2 + 1 as plan_id from range(200)",
    "staging/stg_employees.sql": "select range as employee_id, 'd' || (range % 3) as department from range(7)",
    "intermediate/int_claims_enriched.sql": (
        "select c.*, e.department from {{ ref('stg_claims') }} c join {{ ref('stg_employees') }} e using (employee_id)"),
    "marts/fct_claims.sql": "{{ config(materialized='table') }} select * from {{ ref('int_claims_enriched') }}",
    "marts/fct_department_claims.sql": (
        "{{ config(materialized='table') }} select department, count(*) as claims from {{ ref('fct_claims') }} group by 1"),
}
SCHEMA = """
version: 2
models:
  - name: stg_claims
    description: One row per claim.
    columns:
      - name: claim_id
        description: Claim key.
        data_tests: [unique, not_null]
  - name: fct_claims
    description: Claims with the employee's department.
    columns:
      - name: claim_id
        description: Claim key.
        data_tests: [unique]
"""


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    """A small real dbt project (staging, intermediate, marts, tests), parsed once: returns its dir."""
    root = tmp_path_factory.mktemp("tiny_tui")
    (root / "dbt_project.yml").write_text("name: tiny\nversion: '1.0'\nprofile: tiny\n")
    (root / "profiles.yml").write_text(
        f"tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {root / 'w.duckdb'}\n")
    for rel, sql in MODELS.items():
        (root / "models" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "models" / rel).write_text(sql)
    (root / "models" / "_models.yml").write_text(SCHEMA)
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "dbt"), "parse", "--project-dir", str(root), "--profiles-dir", str(root)],
        check=True, capture_output=True, env={"DO_NOT_TRACK": "1", "PATH": str(bin_dir), "HOME": str(root)},
    )
    return root


@pytest.fixture
def tiny_app(tiny_project) -> PipelineApp:
    return fixed_app(tiny_project)


@pytest.fixture
def tiny_manifest(tiny_project):
    return load_project(tiny_project / "target")
