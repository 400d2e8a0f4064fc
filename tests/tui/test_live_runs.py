"""Live runs through the real dbt client on a real project: what the keys do to the run table.

One project is shared by the tests of this module (built by the first one); each test opens its
own app on it and waits for the run to finish.
"""

from __future__ import annotations

import shutil
import time

import pytest
from tui_helpers import make_tiny_project, plain

from tui.launch import build_app, dev_workspace
from tui.widgets.run_progress import RunProgress
from tui.widgets.run_table import RunTable

SIZE = (120, 40)
RUN_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def live_project(tmp_path_factory):
    return make_tiny_project(tmp_path_factory.mktemp("live"))


def app_on(project_dir):
    return build_app(dev_workspace(project_dir))


async def wait_for(pilot, condition, timeout: float = RUN_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


async def run_key(pilot, key: str) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.bridge.ready)
    await pilot.press(key)
    await wait_for(pilot, lambda: app.bridge.busy or app.view.finished is not None and app.view.run is not None)
    await wait_for(pilot, lambda: not app.bridge.busy and app.view.finished is not None)
    await pilot.pause()


def results(app) -> dict[str, tuple]:
    return {uid: (s.status, s.current.run_id if s.current else None) for uid, s in app.view.nodes.items()}


def select(app, name: str) -> None:
    node = app.cockpit.project.find(name)
    app.screen.query_one(RunTable).select(node.unique_id)


async def test_b_builds_every_node_and_shows_its_time(live_project):
    app = app_on(live_project)
    async with app.run_test(size=SIZE) as pilot:
        await run_key(pilot, "b")
        assert app.view.finished.status == "success"
        table = app.screen.query_one(RunTable)
        for uid, state in app.view.nodes.items():
            assert state.status in ("success", "pass"), uid
            assert state.duration_s is not None and state.duration_s >= 0
            assert table.cell(uid, "time").text.endswith("s")
        assert "100%" in plain(app.screen.query_one(RunProgress).content)
        assert app.view.done == len(app.view.nodes)


async def test_r_rebuilds_only_the_selected_model(live_project):
    app = app_on(live_project)
    async with app.run_test(size=SIZE) as pilot:
        await run_key(pilot, "b")
        before = results(app)
        select(app, "int_claims_enriched")
        await run_key(pilot, "r")
        after = results(app)
        changed = {uid for uid in after if after[uid] != before[uid]}
        assert changed == {app.cockpit.project.find("int_claims_enriched").unique_id}


async def test_shift_r_rebuilds_the_model_and_everything_downstream(live_project):
    app = app_on(live_project)
    async with app.run_test(size=SIZE) as pilot:
        await run_key(pilot, "b")
        before = results(app)
        select(app, "int_claims_enriched")
        await run_key(pilot, "R")
        after = results(app)
        project = app.cockpit.project
        changed = {uid for uid in after if after[uid] != before[uid]}
        changed_models = {project.nodes[uid].name for uid in changed if project.nodes[uid].resource_type == "model"}
        assert changed_models == {"int_claims_enriched", "fct_claims", "fct_department_claims"}


async def test_t_runs_only_the_selected_models_tests(live_project):
    app = app_on(live_project)
    async with app.run_test(size=SIZE) as pilot:
        await run_key(pilot, "b")
        before = results(app)
        select(app, "stg_claims")
        await run_key(pilot, "t")
        after = results(app)
        changed = {uid for uid in after if after[uid] != before[uid]}
        project = app.cockpit.project
        expected = {t.unique_id for t in project.tests_of(project.find("stg_claims").unique_id)}
        assert changed == expected and len(expected) == 2


async def test_c_cancels_a_running_build_and_marks_nodes(live_project):
    slow = live_project / "models" / "marts" / "fct_slow.sql"
    slow.write_text("{{ config(materialized='table') }} select sum(a.range * b.range) as n from range(200000) a, range(200000) b")
    try:
        app = app_on(live_project)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.bridge.ready)
            await pilot.press("b")
            slow_uid = "model.tiny.fct_slow"
            await wait_for(pilot, lambda: app.view is not None and (
                slow_uid in app.view.nodes and app.view.nodes[slow_uid].running or app.view.finished is not None))
            asked = time.monotonic()
            await pilot.press("c")
            await wait_for(pilot, lambda: not app.bridge.busy and app.view.finished is not None, timeout=30)
            took = time.monotonic() - asked
            assert app.view.finished.status == "cancelled", app.view.finished
            assert app.view.nodes[slow_uid].status == "cancelled"
            assert not any(s.running for s in app.view.nodes.values())
            assert took < 10  # the 250 ms target is measured in bench/, not asserted here
    finally:
        slow.unlink()
        shutil.rmtree(live_project / "target" / "run", ignore_errors=True)
