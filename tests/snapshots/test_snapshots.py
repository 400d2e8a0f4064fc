"""Snapshots of every screen at fixed sizes, on a real parsed project with deterministic history.

Nothing on screen depends on the clock or the machine: the history is fixed, no dbt worker runs,
and the header's "last run" is pinned to three days before now. Update with `--snapshot-update`
after checking the new SVGs by eye.
"""

from __future__ import annotations

import time

import pytest
from tui_helpers import fixed_app, started

from tui.widgets.run_table import RunTable

SMALL, LARGE = (80, 24), (160, 45)


def pinned(project_dir, theme: str | None = None):
    app = fixed_app(project_dir)

    async def before(pilot) -> None:
        await started(pilot)  # the project loads right after the first frame
        if theme:
            app.theme = theme
        app.header_info.last_run_at = time.time() - 3 * 86400 - 60
        app.status_changed.publish(None)
        await pilot.pause()

    return app, before


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_run_screen(snap_compare, snapshot_project, size):
    app, before = pinned(snapshot_project)
    assert snap_compare(app, terminal_size=size, run_before=before)


def test_run_screen_light_theme(snap_compare, snapshot_project):
    app, before = pinned(snapshot_project, theme="textual-light")
    assert snap_compare(app, terminal_size=SMALL, run_before=before)


def test_run_screen_filtered(snap_compare, snapshot_project):
    app, before = pinned(snapshot_project)
    assert snap_compare(app, terminal_size=SMALL, run_before=before, press=["slash", *"claims", "enter"])


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_timeline_screen(snap_compare, snapshot_project, size):
    app, before = pinned(snapshot_project)
    assert snap_compare(app, terminal_size=size, run_before=before, press=["2"])


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_trends_screen(snap_compare, snapshot_project, size):
    app, before = pinned(snapshot_project)
    assert snap_compare(app, terminal_size=size, run_before=before, press=["3"])


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_detail_screen(snap_compare, snapshot_project, size):
    app, before = pinned(snapshot_project)

    async def open_detail(pilot) -> None:
        await before(pilot)
        app.screen.query_one(RunTable).select("model.tiny.stg_claims")
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(app, terminal_size=size, run_before=open_detail)


@pytest.mark.parametrize("size", [SMALL, LARGE], ids=["80x24", "160x45"])
def test_help_screen(snap_compare, snapshot_project, size):
    app, before = pinned(snapshot_project)
    assert snap_compare(app, terminal_size=size, run_before=before, press=["question_mark"])
