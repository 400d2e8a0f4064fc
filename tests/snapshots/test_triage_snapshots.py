"""Snapshots of the triage screen's causes and of one cause's view, at 80x24 and 160x45, on the tiny
parsed project with a fixed step result (no dbt, no clock: the elapsed time is pinned)."""

from __future__ import annotations

import pytest
from tui_helpers import fixed_app, started

from tui.core.checks.engine import StepResult
from tui.core.checks.findings import Finding, QueryRecord
from tui.screens.triage import TriageScreen

SIZES = [(80, 24), (160, 45)]
FINDINGS = (
    Finding("drift.distribution", "fail", "stg_claims", "plan_id", "mean of plan_id rose 98.0x, 1.5 -> 147 (table vs baseline table)",
            {"compared": "table vs baseline table", "factor": 98.0, "q50": 150.0, "reference_q50": 1.5}),
    Finding("drift.distribution", "fail", "fct_claims", "plan_id", "mean of plan_id rose 98.0x, 1.5 -> 147 (table vs baseline table)",
            {"compared": "table vs baseline table", "factor": 98.0}),
    Finding("keys.duplicate_records", "fail", "stg_employees", "employee_id",
            "3 rows (30.0%) repeat another row in every column under a new employee_id", {"share": 0.3}),
    Finding("keys.fan_out", "fail", "int_claims_enriched", "claim_id", "a join multiplies rows: 60 extra rows, 1.300 rows per claim_id; baseline 1.000",
            {"rows_per_key": 1.3}),
    Finding("drift.volume", "warn", "fct_department_claims", None, "12 rows against a usual 3 (4.0x, table vs baseline)", {"ratio": 4.0}),
)


def app_with_causes(project_dir):
    app = fixed_app(project_dir)

    async def before(pilot) -> None:
        await started(pilot)
        screen = TriageScreen(None)
        await app.push_screen(screen)
        await pilot.pause()
        screen.session.elapsed = lambda now=None: 125.0
        screen.query_one("#triage-notes").cursor_blink = False
        screen.session.record(StepResult("outputs", "fail", "4 fail, 1 warn", FINDINGS, (),
                                         (QueryRecord("profile stg_claims", "SELECT count(*) FROM stg_claims", 0.01, 1),),
                                         started_at=0.0, seconds=1.5))
        screen.redraw()
        screen.action_causes()
        await pilot.pause()

    return app, before


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x45"])
def test_triage_causes(snap_compare, snapshot_project, size):
    app, before = app_with_causes(snapshot_project)
    assert snap_compare(app, terminal_size=size, run_before=before)


@pytest.mark.parametrize("size", SIZES, ids=["80x24", "160x45"])
def test_triage_cause_view(snap_compare, snapshot_project, size):
    app, before = app_with_causes(snapshot_project)
    assert snap_compare(app, terminal_size=size, run_before=before, press=["enter"])
