"""Trends, regressions, colours and help tell the truth: like-with-like runs over time, a noise floor
shared by the regressions list and the run table's colours, and help that teaches every key."""

from __future__ import annotations

from dataclasses import replace

from tui_helpers import T0, fixed_app, fixed_history, plain, started, statics_text

from tui.core.cockpit import Cockpit, CockpitPaths
from tui.core.history_records import RunRecord
from tui.core.run_view import NOISE_FLOOR_S, Point, RunView
from tui.core.trends import MIN_TREND_RUNS, full_builds, run_totals, worst_regressions
from tui.screens.help import HelpScreen, help_sections
from tui.widgets.cells import BAD, ratio_cell
from tui.widgets.chart import RunChart, value_labels

SIZE = (120, 40)


def record(run_id: str, at: float, **changes) -> RunRecord:
    base = RunRecord(run_id, "build", None, "dev", at, at + 10, "success", None, 10.0, 0.01, False, None, "session")
    return replace(base, **changes)


def test_only_complete_plain_full_builds_make_the_run_trend():
    records = [record("full", T0), record("cancelled", T0 + 1, status="cancelled"),
               record("one-model", T0 + 2, selector="dim_plans"), record("refresh", T0 + 3, full_refresh=True),
               record("interrupted", T0 + 4, status="interrupted"), record("full-2", T0 + 5, status="error")]
    assert [t.run_id for t in full_builds(reversed(records))] == ["full", "full-2"]


def test_a_run_with_a_cancelled_node_is_not_drawn_as_a_full_build(tiny_manifest):
    history = fixed_history(tiny_manifest)
    last = max(p.run_id for points in history.values() for p in points)
    first_uid = next(iter(history))
    history[first_uid][-1] = replace(history[first_uid][-1], status="cancelled")
    view = RunView(tiny_manifest, history)
    runs = [t.run_id for t in run_totals(view)]
    assert last not in runs and len(runs) == len({p.run_id for ps in history.values() for p in ps}) - 1


def _node_with(tiny_manifest, past: list[float], now: float):
    view = RunView(tiny_manifest)
    state = view.nodes["model.tiny.fct_claims"]
    state.past = [Point(f"r{i}", "success", d, finished_at=T0 + i) for i, d in enumerate(past)]
    state.current = Point("now", "success", now, finished_at=T0 + len(past))
    return view, state


def test_sub_second_noise_is_neither_a_regression_nor_coloured(tiny_manifest):
    view, state = _node_with(tiny_manifest, [0.06, 0.05, 0.07, 0.06], 0.19)
    assert state.ratio > 2.5  # a big ratio...
    assert not state.regressed and worst_regressions(view) == []  # ...on less than the noise floor
    assert ratio_cell(state).style == "dim"


def test_a_real_regression_is_listed_and_red_on_the_same_scale(tiny_manifest):
    view, state = _node_with(tiny_manifest, [1.0, 1.1, 0.9, 1.0], 2.2)
    assert state.regressed and state.duration_s - state.median_s > NOISE_FLOOR_S
    assert [r.name for r in worst_regressions(view)] == ["fct_claims"]
    assert BAD in ratio_cell(state).style


def test_a_noisy_node_needs_more_than_its_own_spread(tiny_manifest):
    view, state = _node_with(tiny_manifest, [2.0, 6.0, 3.0, 7.0, 4.0], 9.0)
    assert state.ratio >= 2 and state.noise_s > NOISE_FLOOR_S  # spread: 3 x MAD of its own times
    assert not state.regressed


def test_row_axis_ticks_are_whole_numbers():
    ticks, labels = value_labels([162483.0, 170001.0, 171500.0], "rows")
    assert all(t == int(t) for t in ticks) and not any("." in label and "k" not in label for label in labels)


async def test_fewer_than_three_runs_say_what_a_trend_needs(tiny_project):
    two_runs = lambda project: {uid: ps[:2] for uid, ps in fixed_history(project).items()}  # noqa: E731
    paths = CockpitPaths(tiny_project, tiny_project / "target", None, tiny_project / "state")
    from tui.app import PipelineApp

    app = PipelineApp(Cockpit(paths, history=two_runs))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("3")
        await pilot.pause()
        title, values = app.screen.query_one("#runs-chart", RunChart).shown
        assert len(values) == 2 < MIN_TREND_RUNS
        text = plain(app.screen.query_one("#runs-chart", RunChart).render(), width=120)
        assert f"needs {MIN_TREND_RUNS}" in text


async def test_an_empty_regressions_list_says_why(tiny_project):
    app = fixed_app(tiny_project, slow_model=None)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("3")
        await pilot.pause()
        assert "no regressions" in statics_text(app.screen)


async def test_help_gives_every_key_of_every_screen_a_sentence(tiny_app):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(tiny_app.screen, HelpScreen)
        text = " ".join(statics_text(tiny_app.screen).split())
        for title, bindings in help_sections(tiny_app.BINDINGS):
            assert title in text
            for binding in (b for b in bindings if b.description):
                assert binding.tooltip and " ".join(binding.tooltip.split()) in text, binding.key
        assert "ctrl+n" in text and "tab" in text


async def test_palette_entries_say_what_they_do(tiny_app):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        helps = {c.title: c.help for c in tiny_app.get_system_commands(tiny_app.screen)}
        build = next(help for title, help in helps.items() if title.startswith("Build (b)"))
        assert build.startswith("Build the whole project") and not any(h.startswith("key ") for h in helps.values())
