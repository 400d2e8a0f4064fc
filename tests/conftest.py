"""Shared fixtures: a tiny throwaway dbt project, and the embedded project built once on tiny data.

- `tiny_dbt.make_tiny_dbt_project(root)` (tests/tiny_dbt.py) writes a small dbt-duckdb project (a seed, a staging view, a table,
  an incremental model, tests) whose profile reads `PIPELINE_TUI_WAREHOUSE` like the embedded one:
  proof that the core works on any dbt project.
- `tiny_workspace(tmp_path)`: a fresh copy of that project with its own workspace.
- `built_workspace` (session scope): a `Workspace` on the real embedded project, generated at the
  `test` size and built once through `DbtSession`, with at least one run in its history. Reuse it
  read-only (copy it if a test must change it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tiny_dbt import make_tiny_dbt_project

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")

@pytest.fixture(scope="session")
def tiny_template(tmp_path_factory) -> Path:
    return make_tiny_dbt_project(tmp_path_factory.mktemp("tiny_template"))


@pytest.fixture
def tiny_workspace(tiny_template, tmp_path):
    from tui.core.workspace import Workspace

    project = tmp_path / "project"
    shutil.copytree(tiny_template, project)
    return Workspace.resolve(workspace=tmp_path / "ws", project_dir=project).ensure_dirs()


@pytest.fixture(scope="session")
def built_workspace(tmp_path_factory):
    """The embedded project, generated at the `test` size and built once (see module docstring)."""
    from tui.core.dbt_host.session import DbtSession
    from tui.core.workspace import Workspace, ensure_demo_data

    root = tmp_path_factory.mktemp("built_workspace")
    workspace = Workspace.resolve(workspace=root)
    assert ensure_demo_data(workspace, lambda message, fraction=None: None, size="test")
    session = DbtSession(workspace)
    try:
        finished = session.invoke("build")
    finally:
        session.close()
    assert finished.status == "success", finished.error
    return workspace
