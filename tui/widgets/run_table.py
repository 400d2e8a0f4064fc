"""The run table: every node of the project in DAG order grouped by its folder, with live results.

A Line API widget rather than a DataTable: during a build dozens of cells change every second,
and a DataTable re-renders every visible cell through Rich on each change (about 0.2 s per
refresh at 120x40, measured). Here a row is drawn straight into one `Strip` of segments and
cached; an update redraws only the rows that changed. The header line stays put while rows scroll.

Rows are keyed by node unique id (group header rows by `group:<folder>`). The table renders
from a `RunView` it is handed; `update_nodes` redraws changed rows, `tick` moves elapsed timers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.core.deprecations import deprecated_mark
from tui.core.run_view import NodeState, RunView
from tui.widgets import cells
from tui.widgets.cells import Cell

GROUP_PREFIX = "group:"
WIDE = 110  # at or above this width the table shows every column
GAP = 2  # spaces between columns


NAME_MIN, NAME_MAX = 26, 64  # the node column grows with the terminal up to the longest name, or NAME_MAX
SPARK_MIN, SPARK_MAX = 6, 30  # sparkline cells: as many runs as fit (the view keeps 30 per node)


def columns_for(wide: bool, width: int = 0, longest: int = NAME_MAX) -> list[tuple[str, str, int]]:
    """Column key, label, width. Narrow terminals (under WIDE) get a symbol for the status and one
    sparkline; the node name takes the room left, up to the `longest` name shown (within NAME_MAX),
    then the sparklines grow."""
    columns = [
        ("node", "Node", NAME_MIN), ("status", "Status" if wide else "", 7 if wide else 1),
        ("time", "Time", 6), ("median", "Median", 6), ("change", "Chg", 5), ("rows", "Rows", 6),
        ("drows", "ΔRows", 6), ("tspark", "Time trend" if wide else "Trend", SPARK_MIN),
    ]
    if wide:
        columns.append(("rspark", "Rows trend", SPARK_MIN))
    sparks = 2 if wide else 1
    spare = max(0, width - sum(w + GAP for _, _, w in columns) - GAP - 3)  # margin and scrollbar
    name = NAME_MIN + min(spare, max(0, min(longest, NAME_MAX) - NAME_MIN))
    spark = SPARK_MIN + min((spare - (name - NAME_MIN)) // sparks, SPARK_MAX - SPARK_MIN)
    columns[0] = ("node", "Node", name)
    short = {"tspark": "~time", "rspark": "~rows"} if wide and spark < len("Time trend") else {}
    return [(key, short.get(key, label), spark if key.endswith("spark") else w) for key, label, w in columns]


class RunTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {"run-table--header", "run-table--group", "run-table--cursor"}
    DEFAULT_CSS = """
    RunTable { background: $surface; overflow-x: hidden; }
    RunTable > .run-table--header { text-style: bold; background: $panel; }
    RunTable > .run-table--group { text-style: bold; color: $accent; }
    RunTable > .run-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; }
    RunTable:blur > .run-table--cursor { background: $block-cursor-blurred-background; }
    """
    BINDINGS = [
        Binding("up", "cursor(-1)", show=False), Binding("down", "cursor(1)", show=False),
        Binding("pageup", "page(-1)", show=False), Binding("pagedown", "page(1)", show=False),
        Binding("home", "edge(0)", show=False), Binding("end", "edge(1)", show=False),
        Binding("enter", "choose", "Detail", show=False),
    ]

    @dataclass
    class NodeHighlighted(Message):
        uid: str

    @dataclass
    class NodeChosen(Message):
        uid: str

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.view: RunView | None = None
        self.labels: dict[str, str] = {}
        self.filter_text = ""
        self.wide = False
        self.columns = columns_for(False)
        self.keys: list[str] = []  # row keys in display order
        self.row_cells: dict[str, list[Cell]] = {}
        self.cursor = 0
        self._strips: dict[tuple[str, bool], Strip] = {}

    # --- building -------------------------------------------------------------------------
    def show(self, view: RunView, labels: dict[str, str]) -> None:
        self.view, self.labels = view, labels
        self.rebuild()

    def rebuild(self, keep_selection: bool = True) -> None:
        """Lay out every row again (new project, filter or width); keep the selected node, or select
        the first one."""
        if self.view is None:
            return
        selected = self.selected_uid if keep_selection else None
        self.wide = self.size.width >= WIDE
        self.columns = columns_for(self.wide, self.size.width, self._longest_name())
        now = time.time()
        self.keys, self.row_cells, self._strips = [], {}, {}
        for group, states in self.view.groups():
            shown = [s for s in states if self._matches(s)]
            if shown:
                self.keys.append(GROUP_PREFIX + group)
                self.row_cells[GROUP_PREFIX + group] = [Cell(f"{group} ({len(shown)})")]
                for state in shown:
                    self.keys.append(state.node.unique_id)
                    self.row_cells[state.node.unique_id] = self._cells(state, now)
        self.virtual_size = Size(self.size.width, len(self.keys) + 1)
        target = self.keys.index(selected) if selected in self.row_cells else 1
        self._move(min(target, len(self.keys) - 1), notify=selected not in self.row_cells)
        self.refresh()

    def _longest_name(self) -> int:
        """Width of the longest node label with its indent."""
        if self.view is None:
            return NAME_MAX
        return 2 + max((len(self.labels.get(uid, s.node.name)) for uid, s in self.view.nodes.items()), default=0)

    def _matches(self, state: NodeState) -> bool:
        needle = self.filter_text.lower()
        if not needle:
            return True
        label = self.labels.get(state.node.unique_id, state.node.name).lower()
        return needle in label or needle in (state.status or "") or needle == state.node.resource_type

    def _cells(self, state: NodeState, now: float) -> list[Cell]:
        style = "dim" if state.node.resource_type == "test" else ""
        row = [
            Cell("  " + self.labels.get(state.node.unique_id, state.node.name) + deprecated_mark(state.node, self.wide),
                 style),
            cells.status_cell(state.status, not self.wide), cells.time_cell(state, now), cells.median_cell(state),
            cells.ratio_cell(state), cells.rows_cell(state), cells.delta_rows_cell(state),
        ]
        spark = self.columns[-1][2]
        row.append(cells.spark_cell(state, "duration_s", spark))
        if self.wide:
            row.append(cells.spark_cell(state, "rows", spark))
        age = self.view.result_age(state) if self.view else None
        if age:  # a result from an earlier run: dim it all, and say so in the status
            row = [Cell(c.text, "dim", c.right) for c in row]
            row[1] = cells.aged_status_cell(state.status, age, not self.wide)
        return row

    # --- updating -------------------------------------------------------------------------
    def update_nodes(self, uids: set[str]) -> None:
        if self.view is None:
            return
        now = time.time()
        for uid in uids:
            if uid in self.row_cells:
                self.row_cells[uid] = self._cells(self.view.nodes[uid], now)
                self._redraw_row(uid)

    def tick(self) -> None:
        """Advance the elapsed timers of running nodes."""
        if self.view is None:
            return
        now = time.time()
        for uid, state in self.view.nodes.items():
            if state.running and uid in self.row_cells:
                self.row_cells[uid][2] = cells.time_cell(state, now)
                self._redraw_row(uid)

    def _redraw_row(self, key: str) -> None:
        self._strips.pop((key, False), None)
        self._strips.pop((key, True), None)
        self.refresh_line(self.keys.index(key) + 1)

    def set_filter(self, text: str) -> None:
        """Show only the rows that match, from the top, the first match selected (as fzf does): the
        first group's header is in view. Clearing the filter keeps the node chosen through it."""
        self.filter_text = text.strip()
        if self.filter_text:
            self.scroll_to(y=0, animate=False, immediate=True)
        self.rebuild(keep_selection=not self.filter_text)

    def on_resize(self, event: events.Resize) -> None:
        if self.view is not None and columns_for(event.size.width >= WIDE, event.size.width,
                                                 self._longest_name()) != self.columns:
            self.rebuild()
        self.virtual_size = Size(event.size.width, len(self.keys) + 1)
        self._strips.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()

    # --- drawing --------------------------------------------------------------------------
    def render_line(self, y: int) -> Strip:
        width = self.size.width
        if y == 0:
            style = self.get_component_rich_style("run-table--header")
            return self._strip([Cell(label) for _, label, _ in self.columns], style, width)
        index = self.scroll_offset.y + y - 1
        if index >= len(self.keys):
            if index == 0 and self.filter_text:
                return self._strip([Cell(f"no node matches “{self.filter_text}”: esc clears the filter", "italic")],
                                   self.rich_style, width)
            return Strip.blank(width, self.rich_style)
        key, on_cursor = self.keys[index], index == self.cursor
        strip = self._strips.get((key, on_cursor))
        if strip is None:
            base = self.get_component_rich_style("run-table--group") if key.startswith(GROUP_PREFIX) else self.rich_style
            if on_cursor:
                base = base + self.get_component_rich_style("run-table--cursor")
            strip = self._strips[(key, on_cursor)] = self._strip(self.row_cells[key], base, width, on_cursor)
        return strip

    def _strip(self, row: list[Cell], base: Style, width: int, on_cursor: bool = False) -> Strip:
        segments, used = [Segment(" ", base)], 1
        for cell, (_, _, col_width) in zip(row, self.columns):
            text = cell.text if len(cell.text) <= col_width else cell.text[: col_width - 1] + "…"
            text = text.rjust(col_width) if cell.right else text.ljust(col_width)
            style = base if on_cursor or not cell.style else base + cells.style_of(cell.style)
            segments += [Segment(text, style), Segment(" " * GAP, base)]
            used += col_width + GAP
        if len(row) == 1:  # a group header spans the whole line
            used = 1 + len(segments[1].text) + GAP
        segments.append(Segment(" " * max(0, width - used), base))
        return Strip(segments).crop(0, width)

    def cell(self, key: str, column: str) -> Cell:
        """The cell shown for a row and a column key (see `columns_for`)."""
        keys = [k for k, _, _ in self.columns]
        return self.row_cells[key][keys.index(column)]

    # --- cursor ---------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.keys)

    @property
    def selected_uid(self) -> str | None:
        if not self.keys or self.cursor >= len(self.keys):
            return None
        key = self.keys[self.cursor]
        return None if key.startswith(GROUP_PREFIX) else key

    def select(self, uid: str) -> None:
        if uid in self.row_cells:
            self._move(self.keys.index(uid))

    def _move(self, index: int, notify: bool = True) -> None:
        if not self.keys:
            return
        index = max(0, min(index, len(self.keys) - 1))
        old, self.cursor = self.cursor, index
        for i in {old, index}:  # strips are cached with and without the cursor: just redraw
            self.refresh_line(i + 1)
        visible = max(1, self.size.height - 1)
        if index < self.scroll_offset.y:
            self.scroll_to(y=index, animate=False)
        elif index >= self.scroll_offset.y + visible:
            self.scroll_to(y=index - visible + 1, animate=False)
        if notify and self.selected_uid:
            self.post_message(self.NodeHighlighted(self.selected_uid))

    def action_cursor(self, step: int) -> None:
        target = self.cursor + step
        while 0 <= target < len(self.keys) and self.keys[target].startswith(GROUP_PREFIX):
            target += step
        if 0 <= target < len(self.keys):
            self._move(target)

    def action_page(self, direction: int) -> None:
        self._move(self.cursor + direction * max(1, self.size.height - 2))

    def action_edge(self, end: int) -> None:
        self._move(len(self.keys) - 1 if end else 1)

    def action_choose(self) -> None:
        if self.selected_uid:
            self.post_message(self.NodeChosen(self.selected_uid))

    def on_click(self, event: events.Click) -> None:
        index = self.scroll_offset.y + event.y - 1
        if event.y >= 1 and 0 <= index < len(self.keys):
            if index == self.cursor and event.chain > 1:
                self.action_choose()
            self._move(index)
