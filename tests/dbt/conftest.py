"""Fixtures for the embedded dbt project's tests: generated raw feeds and real in-process dbt runs.

dbt runs unpatched here (`plain_dbt`, and `DbtRun` uninstalls the patch registry before each run).
Builds are shared per session (`baseline`, `incident`); tests that change data make their own
workspace (`fresh_run`). Expected values come from tests/dbt/dbt_raw_expectations.py, which reads
the raw files directly, never the models.
"""

from __future__ import annotations

import pytest
from dbt_workspace_run import DbtRun

from tui.core.generator import generate


@pytest.fixture(autouse=True)
def plain_dbt():
    """These tests claim plain dbt's behaviour: none of pipeline-tui's patches is on while they run."""
    from tui.core.dbt_host.patches import REGISTRY

    REGISTRY.uninstall()
    yield
    assert not REGISTRY.installed, "a test claiming plain dbt behaviour ran with pipeline-tui's patches"


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
