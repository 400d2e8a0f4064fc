"""Workspace resolution: options, environment, defaults; the embedded project; the profile env."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core import costs
from tui.core.workspace import Workspace, WorkspaceError, default_root, embedded_project_dir


def make_project(root: Path, with_profile: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "dbt_project.yml").write_text("name: other\nprofile: other\n")
    if with_profile:
        (root / "profiles.yml").write_text("other: {}\n")
    return root


def test_option_beats_environment_for_the_root(tmp_path, monkeypatch):
    project = make_project(tmp_path / "proj")
    monkeypatch.setenv("PIPELINE_TUI_WORKSPACE", str(tmp_path / "from_env"))
    assert Workspace.resolve(project_dir=project).root == tmp_path / "from_env"
    ws = Workspace.resolve(workspace=tmp_path / "opt", project_dir=project, target="ci")
    assert ws.root == tmp_path / "opt" and ws.target == "ci" and ws.profiles_dir == project
    assert (ws.demo_warehouse, ws.raw_dir, ws.target_path, ws.log_path, ws.history_path) == (
        ws.root / "warehouse.duckdb", ws.root / "raw", ws.root / "target", ws.root / "logs", ws.root / "history.sqlite")
    assert ws.warehouse is None  # the profile has no target 'ci': no file is guessed
    assert "has no target 'ci'" in ws.profile_target().error


def test_another_project_gets_its_own_root_under_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.delenv("PIPELINE_TUI_WORKSPACE", raising=False)
    one = Workspace.resolve(project_dir=make_project(tmp_path / "a" / "shop"))
    two = Workspace.resolve(project_dir=make_project(tmp_path / "b" / "shop"))
    assert one.root.parent == default_root() / "projects" and one.root != two.root
    assert not one.embedded


def test_missing_project_and_profiles_are_one_line_errors(tmp_path):
    with pytest.raises(WorkspaceError, match="no dbt project at .*--project-dir"):
        Workspace.resolve(project_dir=tmp_path / "nowhere")
    with pytest.raises(WorkspaceError, match="no profiles.yml in .*--profiles-dir"):
        Workspace.resolve(project_dir=make_project(tmp_path / "p"), profiles_dir=tmp_path)


def test_profiles_fall_back_to_the_dbt_home(tmp_path, monkeypatch):
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    ws = Workspace.resolve(workspace=tmp_path, project_dir=make_project(tmp_path / "p", with_profile=False))
    assert ws.profiles_dir == Path("~/.dbt").expanduser()


def test_embedded_project_is_found_in_the_checkout():
    assert embedded_project_dir().name == "dbt"
    assert embedded_project_dir().parent.joinpath("tui").is_dir()


def test_dbt_env_points_the_profile_into_the_workspace_and_keeps_user_values(tmp_path, monkeypatch):
    ws = Workspace.resolve(workspace=tmp_path, project_dir=make_project(tmp_path / "p"))
    monkeypatch.setenv("PIPELINE_TUI_THREADS", "3")
    env = ws.dbt_env()
    assert env["PIPELINE_TUI_WAREHOUSE"] == str(tmp_path / "warehouse.duckdb")
    assert env["PIPELINE_TUI_RAW_DIR"] == str(tmp_path / "raw")
    assert env["PIPELINE_TUI_THREADS"] == "3" and env["PIPELINE_TUI_MEMORY_LIMIT"]


def test_cost_estimate_uses_the_configured_rate(monkeypatch):
    monkeypatch.setenv("PIPELINE_TUI_COST_PER_HOUR", "36")
    assert costs.estimate(100.0) == pytest.approx(1.0)
    assert costs.estimate(100.0, rate=3.6) == pytest.approx(0.1)
    assert costs.estimate(None) is None
    assert costs.format_cost(0.1234) == "est. $0.1234" and costs.format_cost(None) == "est. -"
    monkeypatch.setenv("PIPELINE_TUI_COST_PER_HOUR", "nonsense")
    assert costs.rate_per_hour() == costs.DEFAULT_RATE_PER_HOUR
