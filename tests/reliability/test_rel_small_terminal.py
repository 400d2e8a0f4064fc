"""A terminal smaller than 80x24: the cockpit starts, shows the run table and survives resizes."""

from __future__ import annotations

from rel_helpers import copy_workspace
from tui.launch import build_app
from tui.widgets.run_table import RunTable


async def test_the_cockpit_at_60x20_shows_the_run_table(rel_built, tmp_path):
    ws = copy_workspace(rel_built, tmp_path)
    app = build_app(ws)
    app.bridge = None  # layout only: no dbt worker needed
    async with app.run_test(size=(60, 20)) as pilot:
        for _ in range(1500):  # the project is read right after the first frame
            if app.started:
                break
            await pilot.pause(0.02)
        table = app.screen.query_one(RunTable)
        assert table.region.width > 0 and table.region.height > 0
        assert app.view is not None and len(app.view.nodes) > 100  # the embedded project's nodes are listed
        for size in ((40, 12), (80, 24), (60, 20)):
            await pilot.resize_terminal(*size)
            await pilot.pause()
        for key in ("2", "3", "1", "question_mark", "escape"):  # every screen at the small size
            await pilot.press(key)
            await pilot.pause()
        assert app.is_running
