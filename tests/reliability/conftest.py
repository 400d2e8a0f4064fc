"""Fixtures for the reliability tests: copies of a built workspace that tests may damage.

- `pytest_pyfunc_call` (from tests/async_tests.py): runs `async def` tests (Textual's Pilot).
- `rel_built` (session): the shared `built_workspace` (embedded project, `test` size, built once);
  never changed: tests copy it with `rel_helpers.copy_workspace`.
- `rel_reference` (session): every relation of that warehouse with its row count, the yardstick
  for "no table missing or half-written" after a cancel or a kill.
- `rel_tiny` (session): a tiny dbt-duckdb project (seconds to build) for the CLI error cases.
"""

from __future__ import annotations

import pytest

from async_tests import pytest_pyfunc_call  # noqa: F401 - the hook that runs `async def` tests
from rel_helpers import relation_counts
from tiny_dbt import make_tiny_dbt_project


@pytest.fixture(scope="session")
def rel_built(built_workspace):
    return built_workspace


@pytest.fixture(scope="session")
def rel_reference(rel_built) -> dict[str, int]:
    counts = relation_counts(rel_built)
    assert len(counts) > 20 and all(n is not None for n in counts.values())
    return counts


@pytest.fixture(scope="session")
def rel_tiny(tmp_path_factory):
    return make_tiny_dbt_project(tmp_path_factory.mktemp("rel_tiny") / "project")
