"""The cockpit on users' project shapes (tests/dbt_shapes.py), opened from another folder, with the
real dbt worker: it never builds by itself, builds where plain dbt would when `b` is pressed, shows
the warehouse's real name, and a project broken at start-up is fixed and built with `b`."""

from __future__ import annotations

import duckdb
import pytest
from dbt_shapes import JAFFLE_CUSTOMERS, make_jaffle_project, make_medallion_project
from tui_helpers import plain, ready, run_key, wait_for

from tui.core.history import HistoryStore
from tui.core.dbt_host.session import DbtSession
from tui.core.workspace import Workspace
from tui.launch import build_app
from tui.widgets.error_bar import ErrorBar
from tui.widgets.header import CockpitHeader
from tui.widgets.run_progress import RunProgress

pytestmark = pytest.mark.slow
SIZE = (120, 36)


def screen_text(app, widget) -> str:
    return plain(app.screen.query_one(widget).content)


def build_runs(workspace: Workspace) -> list:
    with HistoryStore(workspace.history_path) as store:
        return store.recent_runs(50)


@pytest.fixture
def here(tmp_path, monkeypatch):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


async def test_opening_a_built_project_adds_no_run_and_b_builds_where_dbt_does(tmp_path, here):
    project = make_jaffle_project(tmp_path / "shop")
    workspace = Workspace.resolve(workspace=tmp_path / "ws", project_dir=project)
    session = DbtSession(workspace)
    try:
        assert session.invoke("build").status == "success"
    finally:
        session.close()
    before = build_runs(workspace)
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause(1.0)  # time for a start-up build to begin, if one were (wrongly) sent
        assert not app.bridge.busy and app.view.run is None
        assert "b builds" in screen_text(app, RunProgress)
        assert "jaffle_shop.duckdb" in screen_text(app, CockpitHeader)
        assert len(build_runs(workspace)) == len(before)
        await run_key(pilot, "b")
        assert app.view.finished.status == "success", app.view.finished.error
    assert len(build_runs(workspace)) == len(before) + 1
    assert list(here.iterdir()) == []
    with duckdb.connect(str(project / "jaffle_shop.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from customers").fetchone()[0] == JAFFLE_CUSTOMERS


async def test_a_never_built_project_opens_without_building(tmp_path, here):
    project = make_medallion_project(tmp_path / "medallion")  # the loader wrote the sources only
    workspace = Workspace.resolve(workspace=tmp_path / "ws", project_dir=project)
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.pause(1.0)
        assert not app.bridge.busy and app.view is not None and app.view.run is None
        assert "b builds" in screen_text(app, RunProgress)
        assert "medallion.duckdb" in screen_text(app, CockpitHeader)
    assert build_runs(workspace) == []
    with duckdb.connect(str(project / "data" / "medallion.duckdb"), read_only=True) as con:
        schemas = {row[0] for row in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
    assert schemas == {"raw"}  # nothing built: only the loader's tables
    assert list(here.iterdir()) == []


async def test_a_jinja_error_at_start_is_fixed_and_built_with_b(tmp_path, here):
    project = make_jaffle_project(tmp_path / "shop")
    model = project / "models" / "customers.sql"
    good = model.read_text()
    model.write_text(good.replace("{{ ref('stg_customers') }}", "{{ ref('stg_customers' }}"))
    workspace = Workspace.resolve(workspace=tmp_path / "ws", project_dir=project)
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.header_info.dbt_state == "dbt failed")
        await pilot.pause()
        assert "customers.sql" in app.last_error and "press b" in app.last_error
        assert "press b" in screen_text(app, ErrorBar)
        model.write_text(good)
        await pilot.press("b")
        await wait_for(pilot, lambda: app.view is not None and app.view.finished is not None and not app.bridge.busy)
        assert app.view.finished.status == "success", app.view.finished.error
        await pilot.pause()
        assert app.header_info.dbt_state == "dbt ready" and app.cockpit.project.find("customers") is not None
        assert "jaffle_shop" in screen_text(app, CockpitHeader)
    assert (project / "jaffle_shop.duckdb").is_file() and list(here.iterdir()) == []
