"""The run table, timeline and header use the terminal's width; the filter keeps its first group in
view and says so when nothing matches."""

from __future__ import annotations

from tui_helpers import plain, started

from tui.widgets.gantt import Gantt
from tui.widgets.header import HeaderInfo, render_header
from tui.widgets.run_table import GROUP_PREFIX, RunTable


def node_cells(table: RunTable) -> dict[str, str]:
    return {k: table.cell(k, "node").text.strip() for k in table.keys if not k.startswith(GROUP_PREFIX)}


async def test_whole_names_from_120_columns(tiny_app):
    async with tiny_app.run_test(size=(120, 30)) as pilot:
        await started(pilot)
        table = tiny_app.screen.query_one(RunTable)
        shown = node_cells(table)
        assert shown == {uid: tiny_app.labels[uid] for uid in shown}  # nothing cut


async def test_sparklines_grow_with_the_terminal(tiny_app):
    async with tiny_app.run_test(size=(160, 45)) as pilot:
        await started(pilot)
        widths = {key: width for key, _, width in tiny_app.screen.query_one(RunTable).columns}
        assert widths["tspark"] >= 12 and widths["rspark"] >= 12


async def test_at_100_columns_the_node_column_takes_the_room(tiny_app):
    async with tiny_app.run_test(size=(100, 30)) as pilot:
        await started(pilot)
        table = tiny_app.screen.query_one(RunTable)
        used = sum(width + 2 for _, _, width in table.columns)
        assert not any(text.endswith("…") for text in node_cells(table).values())
        assert used <= 100 and used > 100 - 10  # no wasted band of empty columns


async def test_at_80_columns_a_cut_test_name_still_tells_rows_apart(tiny_app):
    async with tiny_app.run_test(size=(80, 24)) as pilot:
        await started(pilot)
        table = tiny_app.screen.query_one(RunTable)
        tests = {uid: text for uid, text in node_cells(table).items() if uid.startswith("test.")}
        assert len(set(tests.values())) == len(tests)  # every test row reads differently
        for uid, text in tests.items():
            label = tiny_app.labels[uid]
            model_column = label.split(" ")[0]
            assert "." in model_column and text.startswith(model_column)


async def test_the_timeline_gives_names_room_on_a_wide_terminal(tiny_app):
    async with tiny_app.run_test(size=(200, 50)) as pilot:
        await started(pilot)
        await pilot.press("2")
        await pilot.pause()
        gantt = tiny_app.screen.query_one(Gantt)
        text = plain(gantt.render(), width=200)
        assert all(span.name in text for span in gantt.spans)  # none cut at 24 characters


def test_the_header_drops_whole_parts_least_important_first():
    info = HeaderInfo(project="jaffle_shop", target="dev", warehouse="jaffle_shop.duckdb", warehouse_bytes=14_200_000,
                      last_run_status="ok", last_run_at=None, dbt_state="dbt ready")
    wide = render_header(info, 200).plain
    assert "jaffle_shop.duckdb 14.2 MB" in wide and " · dev" in wide
    narrow = render_header(info, 50).plain
    assert "jaffle_shop.duckdb" not in narrow and "14.2" not in narrow  # dropped whole, never "14.2" alone
    assert "dbt ready" in narrow and len(narrow) <= 50
    assert render_header(info, 80).plain.endswith("MB") or "duckdb" not in render_header(info, 80).plain


async def test_filtering_keeps_the_first_group_in_view_and_says_when_nothing_matches(tiny_app):
    async with tiny_app.run_test(size=(80, 12)) as pilot:
        await started(pilot)
        table = tiny_app.screen.query_one(RunTable)
        await pilot.press("end")
        await pilot.pause()
        assert table.scroll_offset.y > 0  # scrolled to the last rows
        await pilot.press("slash", *"claims", "enter")
        await pilot.pause()
        assert table.keys[0].startswith(GROUP_PREFIX) and table.scroll_offset.y == 0
        await pilot.press("slash", *"zzzz", "enter")
        await pilot.pause()
        assert table.row_count == 0
        assert "no node matches" in "".join(seg.text for seg in table.render_line(1))
