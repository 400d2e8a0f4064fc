"""Every screen on a real parsed project with fixed history (no dbt worker): what each one shows."""

from __future__ import annotations

import json
import statistics

import pytest
from dbt_shapes import make_jaffle_project, make_medallion_project, run_plain_dbt

from tui_helpers import fixed_app, fixed_history, plain, started, statics_text
from rich.text import Text
from textual.widgets import DataTable, Footer, Input

from tui.app import PipelineApp
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.widgets.gantt import Gantt
from tui.widgets.header import CockpitHeader
from tui.widgets.cells import BAD
from tui.widgets.run_table import GROUP_PREFIX, RunTable

SIZE = (120, 30)  # wide layout: every column, status words


def cell(table, row: str, column: str) -> str:
    """What a table shows in a cell, whichever table it is."""
    if isinstance(table, RunTable):
        return table.cell(row, column).text
    value = table.get_cell(row, column)
    return value.plain if isinstance(value, Text) else str(value)


async def test_the_first_frame_is_the_skeleton_and_the_project_loads_right_after(tiny_project):
    seen = {}

    class Probe(PipelineApp):
        def on_mount(self) -> None:  # runs before PipelineApp.on_mount: sees the first frame first
            self.call_after_refresh(self._first_frame)

        def _first_frame(self) -> None:
            seen.update(view=self.view, header=str(self.screen.query_one(CockpitHeader).render()),
                        rows=self.screen.query_one(RunTable).row_count, footers=len(self.screen.query(Footer)))

    app = fixed_app(tiny_project, app_class=Probe)
    async with app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        assert seen["view"] is None and seen["rows"] == 0 and seen["footers"] == 0  # nothing read yet
        assert "loading…" in seen["header"]
        assert app.view is not None and app.screen.query_one(RunTable).row_count > 0
        assert "tiny" in str(app.screen.query_one(CockpitHeader).render()) and app.screen.query(Footer)


async def test_run_screen_lists_every_node_grouped_by_layer_in_dag_order(tiny_app, tiny_manifest):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        table = tiny_app.screen.query_one(RunTable)
        keys = list(table.keys)
        groups = [k.removeprefix(GROUP_PREFIX) for k in keys if k.startswith(GROUP_PREFIX)]
        assert groups == ["staging", "intermediate", "marts", "tests"]
        node_keys = [k for k in keys if not k.startswith(GROUP_PREFIX)]
        assert set(node_keys) == set(tiny_manifest.nodes)
        assert node_keys.index("model.tiny.fct_claims") > node_keys.index("model.tiny.int_claims_enriched")
        assert node_keys.index("model.tiny.int_claims_enriched") > node_keys.index("model.tiny.stg_claims")


@pytest.mark.parametrize("make, groups", [(make_jaffle_project, ["seeds", "staging", "models", "tests"]),
                                          (make_medallion_project, ["staging", "dimensions", "marts", "tests"])])
async def test_run_screen_groups_users_projects_by_their_folders_in_dag_order(make, groups, tmp_path):
    project = make(tmp_path / "project") if make is make_jaffle_project else make(tmp_path / "project", load=False)
    done = run_plain_dbt(project, "parse")
    assert done.returncode == 0, done.stdout[-1500:]
    manifest = json.loads((project / "target" / "manifest.json").read_text())
    app = fixed_app(project, slow_model=None)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        keys = list(app.screen.query_one(RunTable).keys)
    assert [k.removeprefix(GROUP_PREFIX) for k in keys if k.startswith(GROUP_PREFIX)] == groups
    rows = [k for k in keys if not k.startswith(GROUP_PREFIX)]
    for child, parents in manifest["parent_map"].items():  # dbt's own lineage: parents above children
        for parent in parents:
            if child in rows and parent in rows and not child.startswith("test."):
                assert rows.index(parent) < rows.index(child), (parent, child)


async def test_run_screen_shows_history_medians_and_flags_the_regression(tiny_app):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        table = tiny_app.screen.query_one(RunTable)
        slow = "model.tiny.fct_claims"
        assert cell(table, slow, "status") == "✓ ok"
        assert cell(table, slow, "change").startswith("×3")  # fixed history slows it 3x in the last run
        assert table.cell(slow, "change").style == "bold white on " + BAD  # stands out
        steady = "model.tiny.stg_claims"
        points = fixed_history(tiny_app.cockpit.project, "fct_claims")[steady]
        median = statistics.median(p.duration_s for p in points[:-1])
        assert cell(table, steady, "change") == f"×{points[-1].duration_s / median:.1f}"
        assert cell(table, steady, "median") == f"{median:.2f}s"
        assert cell(table, steady, "rows") == f"{points[-1].rows:,}"
        assert cell(table, steady, "drows") == f"+{points[-1].rows - points[-2].rows}"
        assert len(cell(table, steady, "tspark")) == len(points)


async def test_header_names_project_and_dbt_state(tiny_app):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        header = str(tiny_app.screen.query_one(CockpitHeader).render())
        assert "tiny" in header and "dbt off" in header and "last run ok" in header


async def test_filter_keeps_matching_rows_and_escape_clears_it(tiny_app, tiny_manifest):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("slash")
        assert isinstance(tiny_app.focused, Input)
        await pilot.press(*"fct_")
        table = tiny_app.screen.query_one(RunTable)
        names = {key for key in table.keys if not key.startswith(GROUP_PREFIX)}
        assert names == {"model.tiny.fct_claims", "model.tiny.fct_department_claims", *(
            uid for uid, label in tiny_app.labels.items() if "fct_" in label.lower())}
        await pilot.press("escape")
        assert table.row_count == len(tiny_manifest.nodes) + 4  # nodes + group headers


async def test_enter_opens_model_detail_with_lineage_columns_and_sql(tiny_app):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        table = tiny_app.screen.query_one(RunTable)
        table.select("model.tiny.stg_claims")
        await pilot.press("enter")
        await pilot.pause()
        screen = tiny_app.screen
        assert isinstance(screen, DetailScreen)
        text = statics_text(screen)
        assert "One row per claim." in text
        assert "int_claims_enriched" in text  # downstream
        assert "not_null" in text and "unique" in text and "claim_id" in text
        assert "range(200)" in text  # the SQL
        await pilot.press("escape")
        assert not isinstance(tiny_app.screen, DetailScreen)


async def test_timeline_shows_a_bar_per_node_of_the_last_run_by_thread(tiny_app, tiny_manifest):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("2")
        await pilot.pause()
        gantt = tiny_app.screen.query_one(Gantt)
        assert len(gantt.spans) == len(tiny_manifest.nodes)
        rendered = str(gantt.render())
        assert "T1" in rendered and "T2" in rendered and "█" in rendered
        assert "2 threads" in rendered


async def test_trends_lists_the_worst_regression_first(tiny_app):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("3")
        await pilot.pause()
        table = tiny_app.screen.query_one("#regressions", DataTable)
        first = table.ordered_rows[0].key.value
        assert first == "model.tiny.fct_claims"
        assert cell(table, first, "ratio").startswith("×3")


async def test_help_lists_every_key_binding(tiny_app):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(tiny_app.screen, HelpScreen)
        text = plain(tiny_app.screen.query_one("#help-keys").content)
        for binding in tiny_app.BINDINGS:
            assert binding.tooltip in text
        await pilot.press("escape")
        assert not isinstance(tiny_app.screen, HelpScreen)


async def test_keys_without_dbt_say_why_and_the_app_stays_usable(tiny_app):
    async with tiny_app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("b")
        await pilot.pause()
        assert any("dbt is still loading" in n.message for n in tiny_app._notifications)
        await pilot.press("f")
        assert tiny_app.cockpit.full_refresh is True
        assert "FULL-REFRESH" in str(tiny_app.screen.query_one(CockpitHeader).render())
        await pilot.press("q")
        assert tiny_app.return_code == 0 or not tiny_app.is_running
