"""The cockpit's UI-free state on a real parsed project: requests per key, half-written manifests."""

from __future__ import annotations

import shutil

import pytest
from tui_helpers import fixed_app, started

from tui.core.cockpit import Cockpit, CockpitPaths
from tui.core.project import ManifestMissing
from tui.widgets.run_table import RunTable


@pytest.fixture
def project_copy(tiny_project, tmp_path):
    copy = tmp_path / "project"
    shutil.copytree(tiny_project, copy)
    return copy


def test_requests_for_each_key(project_copy):
    cockpit = Cockpit(CockpitPaths(project_copy, project_copy / "target", None, project_copy / "state"))
    cockpit.load()
    uid = cockpit.project.find("fct_claims").unique_id
    assert cockpit.request("build").args == ["build"]
    assert cockpit.request("rebuild", uid).args == ["build", "--select", "fct_claims"]
    assert cockpit.request("downstream", uid).args == ["build", "--select", "fct_claims+"]
    assert cockpit.request("test", uid).args == ["test", "--select", "fct_claims"]
    assert "b to build" in cockpit.request("modified")  # no successful run saved yet
    assert "select a node" in cockpit.request("rebuild", None)
    cockpit.full_refresh = True
    assert cockpit.request("rebuild", uid).args == ["build", "--select", "fct_claims", "--full-refresh"]
    cockpit.run_done("success")  # keeps the manifest as the state for state:modified
    assert cockpit.request("modified").args[-2:] == ["--state", str(project_copy / "state")]


def test_a_half_written_manifest_is_not_a_crash(project_copy):
    manifest = project_copy / "target" / "manifest.json"
    manifest.write_text(manifest.read_text()[: 5000])
    cockpit = Cockpit(CockpitPaths(project_copy, project_copy / "target", None, project_copy / "state"))
    with pytest.raises(ManifestMissing, match="being written"):
        cockpit.load()


async def test_the_app_starts_on_a_half_written_manifest(project_copy):
    manifest = project_copy / "target" / "manifest.json"
    manifest.write_text(manifest.read_text()[: 5000])
    app = fixed_app(project_copy)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert app.view is None and app.screen.query_one(RunTable).row_count == 0
        await pilot.press("2", "3", "1", "question_mark", "escape")
        assert app.is_running
