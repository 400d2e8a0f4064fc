"""Builds the cockpit app for a dbt project: paths, history, the dbt client and first-start set-up.

`build_app(...)` is what `pipeline-tui` (no command) calls; nothing here imports dbt, so the
first frame never waits for it.
"""

from __future__ import annotations

from pathlib import Path

from tui.app import PipelineApp
from tui.core.cockpit import Cockpit, CockpitPaths


def make_client_factory(project_dir: Path, profiles_dir: Path, target_path: Path):
    def make_client():
        from tui.core.cli_worker import CliWorkerClient

        return CliWorkerClient(project_dir, profiles_dir, target_path)

    return make_client


def build_app(project_dir: Path, profiles_dir: Path | None = None, target_path: Path | None = None,
              warehouse: Path | None = None, state_dir: Path | None = None) -> PipelineApp:
    project_dir = Path(project_dir)
    target_path = Path(target_path or project_dir / "target")
    paths = CockpitPaths(project_dir, target_path, warehouse, Path(state_dir or target_path.parent / "state"))
    factory = make_client_factory(project_dir, Path(profiles_dir or project_dir), target_path)
    return PipelineApp(Cockpit(paths), make_client=factory)
