"""Screens on the real embedded project after real builds: timeline, trends, detail, palette, triage,
and the first start on an empty workspace (demo data generated, then built, with progress)."""

from __future__ import annotations

from tui_helpers import plain, ready, run_key, select, started, statics_text, wait_for

from tui.core.workspace import Workspace
from tui.launch import build_app
from tui.screens.detail import DetailScreen
from tui.widgets.chart import RunChart
from tui.widgets.gantt import Gantt
from tui.widgets.run_progress import RunProgress

SIZE = (140, 45)


async def test_timeline_shows_the_last_run_by_thread(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("2")  # before any run in this session: the last run from history
        await pilot.pause()
        gantt = app.screen.query_one(Gantt)
        last = app.view.last_run().run_id
        ran = [s for s in app.view.nodes.values() if s.current.run_id == last and s.current.started_at is not None]
        assert len(gantt.spans) == len(ran) > 0
        threads = {span.thread for span in gantt.spans}
        assert f"{len(threads)} threads" in plain(gantt.render(), width=200)


async def test_trends_plot_every_full_build_and_the_selected_model(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await run_key(pilot, "b")
        uid = select(app, "fct_claims")
        await pilot.press("3")
        await pilot.pause()
        runs = app.cockpit.run_totals()
        assert len(runs) >= 2  # the fixture's build and this one
        title, values = app.screen.query_one("#runs-chart", RunChart).shown
        assert values == [r.elapsed_s for r in runs]
        title, values = app.screen.query_one("#model-rows-chart", RunChart).shown
        assert "fct_claims" in title and values[-1] == app.view.nodes[uid].rows


async def test_detail_shows_compiled_sql_lineage_and_column_tests(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        uid = select(app, "fct_claims")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)
        text = statics_text(app.screen)
        project = app.cockpit.project
        for parent in project.upstream(uid):
            assert project.nodes[parent].name in text if parent in project.nodes else True
        assert "{{" not in text.split("Compiled SQL", 1)[1]  # compiled: refs resolved
        for test in project.tests_of(uid)[:3]:
            assert test.test_name in text


async def test_palette_runs_an_action_by_name(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        select(app, "stg_benefits__plans")
        before = app.view.run
        await pilot.press("ctrl+p")
        await pilot.press(*"Rebuild (r)")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.view.run is not before)
        await wait_for(pilot, lambda: not app.bridge.busy and app.view.finished is not None)
        assert app.view.run.command == "build" and app.view.run.selector == "stg_benefits__plans"


async def test_i_opens_incident_triage_and_escape_comes_back(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i")
        await pilot.pause()
        assert type(app.screen).__name__ == "TriageScreen"
        app.pop_screen()
        await pilot.pause()
        assert type(app.screen).__name__ == "RunScreen"


async def test_first_start_generates_demo_data_and_builds_it(tmp_path):
    workspace = Workspace.resolve(workspace=tmp_path / "fresh")
    assert workspace.embedded and not workspace.has_data()
    app = build_app(workspace, demo_size="test")
    steps = []
    async with app.run_test(size=SIZE) as pilot:
        app.setup_progress.subscribe(app.screen, lambda step: steps.append(step[0]), immediate=True)
        await wait_for(pilot, lambda: app.view is not None and app.view.finished is not None)
        await wait_for(pilot, lambda: not app.bridge.busy)
        assert app.view.finished.status == "success", app.view.finished.error
        assert all(s.current is not None and s.current.run_id == app.view.run.run_id for s in app.view.nodes.values())
        assert "100%" in plain(app.screen.query_one(RunProgress).content)
    assert any("generat" in step for step in steps), steps
