"""Pilot tests of the cockpit's rollback action and deprecation view on a real built incident workspace
(the real app, no dbt worker). Expected marts come from straight SQL on the baseline's warehouse."""

from __future__ import annotations

import sys
from pathlib import Path

from tui.app import PipelineApp
from tui.core.history import HistoryStore
from tui.launch import cockpit_for
from tui.screens.deprecations import DeprecationsScreen
from tui.screens.rollback import RollbackScreen
from tui.widgets.run_table import RunTable

from tui_helpers import plain, started, wait_for

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "checks"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))
from test_rollback import digest, stats  # noqa: E402
from triage_workspaces import baseline_root, copy_of, incident_root, workspace  # noqa: E402

SIZE = (140, 40)


def make_app(root: Path) -> PipelineApp:
    ws = workspace(root)
    return PipelineApp(cockpit_for(ws), workspace=ws)


async def open_rollback(pilot) -> RollbackScreen:
    await started(pilot)
    await pilot.press("u")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RollbackScreen) and pilot.app.screen.state == "asking",
                   timeout=60)
    return pilot.app.screen


async def test_rollback_action_asks_then_restores_the_baseline():
    root = copy_of(incident_root(), "tui-rollback")
    expected = stats(baseline_root() / "warehouse.duckdb")
    baseline_run = HistoryStore(baseline_root() / "history.sqlite").recent_runs(1)[0].run_id
    async with make_app(root).run_test(size=SIZE) as pilot:
        screen = await open_rollback(pilot)
        body = plain(screen.query_one("#rollback-body").content)
        assert baseline_run[:8] in body and "restored   dbt_audit.loaded_files" in body and "MB of disk" in body
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, RollbackScreen), timeout=60)
    assert stats(root / "warehouse.duckdb") == expected
    with HistoryStore(root / "history.sqlite") as store:
        latest = store.recent_runs(1)[0]
    assert (latest.command, latest.status, latest.selector) == ("rollback", "success", baseline_run)


async def test_declining_the_rollback_changes_nothing():
    root = copy_of(incident_root(), "tui-rollback-no")
    before = digest(root / "warehouse.duckdb")
    async with make_app(root).run_test(size=SIZE) as pilot:
        await open_rollback(pilot)
        await pilot.press("n")
        await wait_for(pilot, lambda: not isinstance(pilot.app.screen, RollbackScreen))
    assert digest(root / "warehouse.duckdb") == before
    with HistoryStore(root / "history.sqlite") as store:
        assert store.recent_runs(1)[0].command == "build"


async def test_deprecated_models_are_marked_and_listed():
    root = copy_of(baseline_root(), "tui-deprecations")
    async with make_app(root).run_test(size=SIZE) as pilot:
        await started(pilot)
        table = pilot.app.screen.query_one(RunTable)
        uid = "model.pipeline_tui.fct_claims_daily"
        assert "(deprecated)" in "".join(c.text for c in table.row_cells[uid])
        assert "(deprecated)" not in "".join(c.text for c in table.row_cells["model.pipeline_tui.fct_claims"])
        await pilot.press("D")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DeprecationsScreen)
                       and pilot.app.screen.found is not None, timeout=30)
        grid = pilot.app.screen.query_one("#deprecations")
        row = [str(v) for v in grid.get_row_at(0)]
        assert grid.row_count == 1
        assert row[0] == "fct_claims_daily" and row[3] == "fct_company_daily_claims" and row[4] == "fct_company_weekly_claims"


async def test_a_cockpit_build_takes_a_checkpoint_and_a_rollback_works_beside_the_live_worker():
    """`b` through the real dbt worker takes a checkpoint of its run; with the worker still up (idle, so
    not holding the file) `u` restores the baseline, and the warm worker builds again afterwards."""
    from tui.core import checkpoints
    from tui.launch import build_app

    from tui_helpers import run_key

    root = copy_of(baseline_root(), "tui-live-rollback")
    ws = workspace(root)
    baseline_run = HistoryStore(ws.history_path).recent_runs(1)[0].run_id
    app = build_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        await run_key(pilot, "b")
        assert app.view.finished.status == "success", app.view.finished.error
        built = app.view.run.run_id
        assert checkpoints.find(ws, built) is not None
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, RollbackScreen) and app.screen.state in ("asking", "refused"),
                       timeout=60)
        assert app.screen.state == "asking", plain(app.screen.query_one("#rollback-body").content)
        assert app.screen.plan.target.run_id == baseline_run
        await pilot.press("y")
        await wait_for(pilot, lambda: not isinstance(app.screen, RollbackScreen), timeout=60)
        await run_key(pilot, "b")
        assert app.view.finished.status == "success", app.view.finished.error
    with HistoryStore(ws.history_path) as store:
        assert [r.command for r in store.recent_runs(3)] == ["build", "rollback", "build"]
