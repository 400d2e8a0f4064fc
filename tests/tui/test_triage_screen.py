"""Pilot tests of the triage screen on a real built incident workspace (the real app, no dbt worker):
steps run in a worker and show their verdict and tables, findings sort by severity, enter opens the
model detail, done marks and notes survive quitting and reopening, a key exports the report."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tui.app import PipelineApp
from tui.launch import cockpit_for
from tui.screens.detail import DetailScreen
from tui.screens.triage import TriageScreen
from tui.widgets.triage_findings import FindingsTable
from tui.widgets.triage_steps import StepList

from tui_helpers import plain, started

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "checks"))
from triage_workspaces import copy_of, incident_root, workspace  # noqa: E402

SIZE = (140, 45)


@pytest.fixture
def ws():
    return workspace(copy_of(incident_root(), "tui-triage"))


def make_app(ws) -> PipelineApp:
    return PipelineApp(cockpit_for(ws), workspace=ws)


async def idle(pilot, screen: TriageScreen, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while screen.running or screen.queue:
        assert time.monotonic() < deadline, "triage step did not finish"
        await asyncio.sleep(0.05)
    await pilot.pause()


async def open_triage(pilot) -> TriageScreen:
    await started(pilot)
    await pilot.press("i")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, TriageScreen)
    return screen


def step_ids(screen: TriageScreen) -> list[str]:
    steps = screen.query_one(StepList)
    return [steps.get_option_at_index(i).id for i in range(steps.option_count)]


async def test_screen_lists_three_phases_and_their_steps_with_a_timer(ws):
    async with make_app(ws).run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        ids = step_ids(screen)
        assert [i for i in ids if i.startswith("phase:")] == ["phase:scope", "phase:changes", "phase:isolate"]
        assert [i for i in ids if not i.startswith("phase:")] == [s.id for s in screen.playbook.steps]
        header = plain(screen.query_one("#triage-header").content)
        assert "00:0" in header and "/ 30:00" in header and "0/7 steps done" in header


async def test_running_a_step_shows_verdict_tables_and_sorted_findings(ws):
    async with make_app(ws).run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        await pilot.press("enter")  # the first step: verify that outputs are wrong
        await idle(pilot, screen)
        shown = plain(screen.query_one("#triage-result").content, width=130)
        assert "FAIL" in shown and "Profiles" in shown and "Findings" in shown
        table = screen.query_one(FindingsTable)
        statuses = [f.status for f in table.findings]
        assert statuses and statuses == sorted(statuses, key=lambda s: {"fail": 0, "warn": 1}[s])
        assert any(f.check == "keys.fan_out" for f in table.findings)
        # between steps the warehouse is free: a build in another process can open it read-write
        writer = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(ws.warehouse)!r}).close()"],
                                capture_output=True, text=True)
        assert writer.returncode == 0, writer.stderr


async def test_enter_on_a_finding_opens_the_model_detail(ws):
    async with make_app(ws).run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        await pilot.press("enter")
        await idle(pilot, screen)
        table = screen.query_one(FindingsTable)
        row = next(i for i, f in enumerate(table.findings) if f.object == "int_claims_matched_to_coverage")
        await pilot.press("f")
        table.move_cursor(row=row)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(pilot.app.screen, DetailScreen)
        assert pilot.app.screen.uid.endswith("int_claims_matched_to_coverage")


async def test_done_marks_notes_and_results_survive_reopening(ws):
    async with make_app(ws).run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        await pilot.press("down", "down")  # the third step, a summary of suspects
        await pilot.press("enter")
        await idle(pilot, screen)
        assert screen.session.state("models").done  # its verdict is in: done, unless unmarked
        assert "1/7 steps done" in plain(screen.query_one("#triage-header").content)
        await pilot.press("d", "n")  # unmark it, then write notes
        await pilot.press(*"partner feed")
        await pilot.pause(0.7)  # notes are saved after a short pause in typing
        await pilot.press("escape", "escape")  # out of the notes, then out of the screen
        assert not isinstance(pilot.app.screen, TriageScreen)
    async with make_app(ws).run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        state = screen.session.state("models")
        assert not state.done and state.notes == "partner feed" and state.result is not None
        assert "0/7 steps done" in plain(screen.query_one("#triage-header").content)
        assert screen.query_one(StepList).step_id == "models"  # the selection is kept


async def test_steps_queue_and_export_writes_the_report(ws):
    async with make_app(ws).run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        screen.run_steps(["outputs", "code"])
        assert screen.running == "outputs" and screen.queue == ["code"]
        await idle(pilot, screen)
        assert screen.session.state("code").result is not None
        await pilot.press("e")
        await pilot.pause()
        report = screen.exported.read_text()
        assert "## Timeline" in report and "keys.fan_out" in report
        assert screen.exported.with_suffix(".json").is_file()


async def test_escape_leaves_the_notes_then_the_screen_and_keeps_them(ws):
    async with make_app(ws).run_test(size=(80, 24)) as pilot:
        screen = await open_triage(pilot)
        await pilot.press("n", *"lost feed")
        assert screen.focused.id == "triage-notes"
        await pilot.press("escape")  # at once, before the pause that saves typed notes
        await pilot.pause()
        assert pilot.app.screen is screen and screen.focused.id == "triage-steps"
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(pilot.app.screen, TriageScreen)
    async with make_app(ws).run_test(size=(80, 24)) as pilot:
        screen = await open_triage(pilot)
        assert screen.session.state(screen.playbook.steps[0].id).notes == "lost feed"


async def test_the_verdict_is_in_view_at_80x24(ws):
    async with make_app(ws).run_test(size=(80, 24)) as pilot:
        screen = await open_triage(pilot)
        await pilot.press("enter")
        await idle(pilot, screen)
        lines = [line for line in plain(screen.query_one("#triage-result").content, width=44).splitlines() if line.strip()]
        status = screen.session.state(screen.playbook.steps[0].id).result.status.upper()
        assert lines[1].startswith(status)  # right under the step's title, above its question


async def test_the_footer_holds_the_triage_keys_not_the_run_keys(ws):
    async with make_app(ws).run_test(size=(120, 30)) as pilot:
        screen = await open_triage(pilot)
        assert pilot.app.check_action("build", ()) is False and pilot.app.check_action("export", ()) is True
        keys = {b.binding.key for b in screen.active_bindings.values() if b.enabled and b.binding.show}
        assert {"a", "e", "x", "escape"} <= keys and not keys & {"b", "r", "R", "t"}
        await pilot.press("escape")
        await pilot.pause()
        assert pilot.app.check_action("build", ()) is True


async def test_every_export_gets_a_new_name(ws):
    async with make_app(ws).run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        await pilot.press("e")
        await pilot.pause()
        first = screen.exported
        await pilot.press("e")
        await pilot.pause()
        assert first.is_file() and screen.exported.is_file() and screen.exported != first


async def test_a_newer_build_opens_a_new_triage_and_keeps_the_old_one_as_a_report(ws):
    from triage_workspaces import CLI

    async with make_app(ws).run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        old_run = screen.session.latest_run_id
        await pilot.press("enter")
        await idle(pilot, screen)
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("PIPELINE_TUI_")}
    built = subprocess.run([*CLI, "--workspace", str(ws.root), "build", "-s", "dim_plans"],
                           capture_output=True, text=True, env=env, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    from tui.core.history import HistoryStore

    with HistoryStore(ws.history_path) as store:
        newest = store.recent_runs(1)[0].run_id
    assert newest != old_run
    async with make_app(ws).run_test(size=SIZE) as pilot:
        screen = await open_triage(pilot)
        assert screen.session.latest_run_id == newest
        assert all(s.result is None for s in screen.session.steps.values())  # no old verdicts
        kept = list((Path(ws.root) / "triage").glob(f"incident-{old_run[:8]}-*.md"))
        assert len(kept) == 1 and "## Timeline" in kept[0].read_text()
