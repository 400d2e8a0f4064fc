"""Fixtures for the TUI tests: a real parsed dbt project and apps built on it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.app import PipelineApp
from tui.core.project import load_project

from async_tests import pytest_pyfunc_call  # noqa: F401 - the hook that runs `async def` tests
from tui_helpers import fixed_app, make_tiny_project


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    """A small real dbt project (staging, intermediate, marts, tests), parsed once: returns its dir."""
    return make_tiny_project(tmp_path_factory.mktemp("tiny_tui"))


@pytest.fixture
def tiny_app(tiny_project) -> PipelineApp:
    return fixed_app(tiny_project)


@pytest.fixture
def tiny_manifest(tiny_project):
    return load_project(tiny_project / "target")


@pytest.fixture(scope="session")
def workspace(built_workspace, tmp_path_factory):
    """A private copy of the built embedded project and its workspace: tests may edit models and build."""
    import shutil

    from tui.core.workspace import Workspace

    copy = tmp_path_factory.mktemp("cockpit")
    shutil.copytree(built_workspace.root, copy / "ws")
    shutil.copytree(built_workspace.project_dir, copy / "project", ignore=shutil.ignore_patterns("target", "logs"))
    return Workspace.resolve(workspace=copy / "ws", project_dir=copy / "project",
                             profiles_dir=copy / "project").ensure_dirs()
