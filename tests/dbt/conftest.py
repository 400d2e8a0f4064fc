"""Fixtures for the embedded dbt project's tests: generated raw feeds and real in-process dbt runs.

Builds are shared per session (`baseline`, `incident`); tests that change data make their own
workspace (`fresh_run`). Expected values come from tests/dbt/dbt_raw_expectations.py, which reads
the raw files directly, never the models.
"""

from __future__ import annotations

import pytest
from dbt_workspace_run import DbtRun

from tui.core.generator import generate


@pytest.fixture(scope="session")
def baseline(tmp_path_factory) -> DbtRun:
    """Baseline `test` size with malformed lines, built once."""
    run = DbtRun(tmp_path_factory.mktemp("dbt_baseline"))
    generate(run.raw, "baseline", size="test", malformed=True)
    run.build()
    return run


@pytest.fixture(scope="session")
def incident(tmp_path_factory) -> DbtRun:
    """Incident scenario at the `test` size, built once."""
    run = DbtRun(tmp_path_factory.mktemp("dbt_incident"))
    generate(run.raw, "incident", size="test")
    run.build()
    return run


@pytest.fixture
def fresh_run(tmp_path) -> DbtRun:
    """An empty workspace for a test that changes data (generate into `run.raw` first)."""
    return DbtRun(tmp_path)
