"""Every run key on the real embedded project, through the real dbt worker process.

The session's `built_workspace` (embedded project, `test` size, built once) is copied with the
project itself, so tests can edit models (`m`, `w`, errors) without touching the repository.
Tests run in file order on that copy; each opens its own app and waits for its runs to finish.
"""

from __future__ import annotations

import time

from tui_helpers import changed_since, descendants, plain, ready, results, run_key, select, started, wait_for

from tui.core.workspace import Workspace
from tui.launch import build_app
from tui.screens.confirm import ConfirmScreen
from tui.widgets.cells import OK
from tui.widgets.error_bar import ErrorBar
from tui.widgets.header import CockpitHeader
from tui.widgets.run_progress import RunProgress
from tui.widgets.run_table import RunTable

SIZE = (120, 40)
MODEL = "int_claims_matched_to_coverage"  # mid-DAG: has parents and children
INCREMENTAL = "stg_benefits__claims"


def model_file(workspace: Workspace, name: str):
    return next(workspace.project_dir.rglob(f"{name}.sql"))


def executable(app) -> list:
    return [s for s in app.view.nodes.values() if s.node.resource_type != "test"]


async def test_first_frame_shows_history_while_dbt_loads(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        header = plain(app.screen.query_one(CockpitHeader).content)
        assert "dbt loading" in header and "pipeline_tui" in header
        table = app.screen.query_one(RunTable)
        assert {k for k in table.keys if not k.startswith("group:")} == set(app.view.nodes)
        assert all(s.duration_s is not None for s in executable(app))  # from the fixture's build
        await ready(pilot)
        assert "dbt ready" in plain(app.screen.query_one(CockpitHeader).content)


async def test_b_gives_every_node_a_duration_and_every_model_a_row_count(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await run_key(pilot, "b")
        assert app.view.finished.status == "success", app.view.finished.error
        run_id = app.view.run.run_id
        for state in app.view.nodes.values():
            assert state.current.run_id == run_id, state.node.name
            assert state.duration_s is not None
            if state.node.resource_type != "test":
                assert state.rows is not None and state.rows >= 0, state.node.name
        table = app.screen.query_one(RunTable)
        fct = app.cockpit.project.find("fct_claims").unique_id
        assert table.cell(fct, "rows").text and table.cell(fct, "time").text.endswith("s")
        assert "100%" in plain(app.screen.query_one(RunProgress).content)


async def test_r_rebuilds_only_the_selected_model(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        uid = select(app, MODEL)
        before = results(app)
        await run_key(pilot, "r")
        changed = changed_since(app, before)
        project = app.cockpit.project
        assert {u for u in changed if project.nodes[u].resource_type != "test"} == {uid}
        assert app.view.nodes[uid].status == "success"


async def test_at_80_columns_the_progress_line_shows_the_outcome_of_a_rebuild(workspace):
    app = build_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await ready(pilot)
        select(app, MODEL)
        await run_key(pilot, "r")
        progress = app.screen.query_one(RunProgress)
        shown = plain(progress.content, width=progress.content_region.width).splitlines()[0]
        finished = app.view.finished
        assert f"{finished.status} · {app.view.done} nodes in " in shown, shown
        assert shown.rstrip().endswith(("s", "…")) and "100%" in shown, shown


async def test_shift_r_rebuilds_the_model_and_everything_downstream(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        uid = select(app, MODEL)
        before = results(app)
        await run_key(pilot, "R")
        project = app.cockpit.project
        changed = {u for u in changed_since(app, before) if project.nodes[u].resource_type != "test"}
        assert changed == {uid} | descendants(project, uid)
        assert len(changed) > 1


async def test_t_runs_the_tests_of_the_selected_model(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        uid = select(app, "fct_claims")
        before = results(app)
        await run_key(pilot, "t")
        project = app.cockpit.project
        changed = changed_since(app, before)
        depending = {u for u, n in project.nodes.items() if n.resource_type == "test" and uid in n.depends_on}
        assert {t.unique_id for t in project.tests_of(uid)} <= changed <= depending
        assert all(app.view.nodes[u].status in ("pass", "warn") for u in changed)


async def test_f_makes_the_next_rebuild_a_full_refresh(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("f")
        assert "FULL-REFRESH" in plain(app.screen.query_one(CockpitHeader).content)
        select(app, INCREMENTAL)
        await run_key(pilot, "r")
        assert app.view.run.full_refresh is True and app.view.finished.status == "success"


async def test_c_cancels_a_build_and_marks_what_did_not_finish(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: app.view.run is not None and app.view.done >= 3
                       and any(s.running for s in app.view.nodes.values()))
        await pilot.press("c")
        asked = app.view.cancel_requested_at
        await wait_for(pilot, lambda: not app.bridge.busy and app.view.finished is not None, timeout=30)
        assert app.view.finished.status == "cancelled" and app.view.finished.finished_at >= asked
        assert "cancelled" in plain(app.screen.query_one(RunProgress).content)
        assert not any(s.running for s in app.view.nodes.values())
        run_id = app.view.run.run_id
        finished_ok = [s for s in app.view.nodes.values()
                       if s.current.run_id == run_id and s.status in ("success", "pass")]
        assert len(finished_ok) < len(app.view.nodes)  # stopped before the end
        table = app.screen.query_one(RunTable)
        for state in app.view.nodes.values():
            if state.current.run_id == run_id and state.status in ("cancelled", "skipped"):
                assert table.cell(state.node.unique_id, "status").text in ("■ stop", "↷ skip")
        not_reached = [s for s in app.view.nodes.values() if s.current.run_id != run_id]
        assert not_reached  # an earlier run's results, not this run's: never shown as this run's ✓
        for state in not_reached:
            cell = table.cell(state.node.unique_id, "status")
            assert cell.text == "↷ skip" and cell.style == "dim"
            assert table.cell(state.node.unique_id, "time").style == "dim"
        progress = app.screen.query_one(RunProgress)
        bar = plain(progress.content)
        styles = {str(progress.content.style)} | {str(span.style) for span in progress.content.spans}
        assert "100%" not in bar and not any(OK in style for style in styles)
        assert app.last_error is None  # a cancel is the user's doing: no red error panel
        # How fast dbt stops, and whether a node still starts after the request, is the session's
        # job and is measured in bench/bench_tui.py; here: the UI marks the run and its nodes.


async def test_q_asks_first_while_a_run_is_in_progress(workspace):
    app = build_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: app.bridge.busy)
        await pilot.press("q")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert not isinstance(app.screen, ConfirmScreen) and app.is_running
        await pilot.press("c")
        await wait_for(pilot, lambda: not app.bridge.busy and app.view.finished is not None, timeout=30)


async def test_m_rebuilds_what_changed_since_the_last_run(workspace):
    app = build_app(workspace)
    path = model_file(workspace, "fct_claim_spikes")
    original = path.read_text()
    async with app.run_test(size=SIZE) as pilot:
        await run_key(pilot, "b")  # a successful run: its manifest becomes the state
        path.write_text(original + "\n-- edited by the cockpit test\n")
        try:
            before = results(app)
            await run_key(pilot, "m")
        finally:
            path.write_text(original)
        project = app.cockpit.project
        uid = project.find("fct_claim_spikes").unique_id
        changed = {u for u in changed_since(app, before) if project.nodes[u].resource_type != "test"}
        assert changed == {uid} | descendants(project, uid)


async def test_w_rebuilds_an_edited_model_and_its_children_on_save(workspace):
    app = build_app(workspace)
    path = model_file(workspace, MODEL)
    original = path.read_text()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        await pilot.press("w")
        assert "WATCH" in plain(app.screen.query_one(CockpitHeader).content)
        before_run = app.view.run
        time.sleep(0.01)
        path.write_text(original + "\n-- saved in the editor\n")
        try:
            await wait_for(pilot, lambda: app.view.run is not before_run, timeout=30)
            await wait_for(pilot, lambda: not app.bridge.busy and app.view.finished is not None)
        finally:
            path.write_text(original)
        assert app.view.run.selector == f"{MODEL}+" and app.view.finished.status == "success"
        await pilot.press("w")
        assert app.cockpit.watcher is None


async def test_a_compilation_error_is_one_line_and_the_app_stays_usable(workspace):
    app = build_app(workspace)
    path = model_file(workspace, "fct_claim_spikes")
    original = path.read_text()
    async with app.run_test(size=SIZE) as pilot:
        await ready(pilot)
        path.write_text("select * from {{ ref('no_such_model') }}")
        try:
            await run_key(pilot, "b")
        finally:
            path.write_text(original)
        error = plain(app.screen.query_one(ErrorBar).content, width=1000).strip()
        assert error.startswith("✗") and "\n" not in error and "Traceback" not in error
        await pilot.press("2")
        await pilot.press("1")
        select(app, "fct_claims")
        await run_key(pilot, "r")  # fixed file: dbt re-parses and the app carries on
        assert app.view.finished.status == "success"
        assert not app.screen.query_one(ErrorBar).has_class("-visible")
