"""The run table: every node of the project in DAG order grouped by layer, with live results.

Rows are keyed by node unique id (group header rows by `group:<layer>`). The table renders
from a `RunView` it is handed; `update_nodes` redraws only the rows whose node changed, and
`tick` moves the elapsed timers of running nodes.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widgets import DataTable

from tui.core.run_view import NodeState, RunView
from tui.widgets import cells

GROUP_PREFIX = "group:"
WIDE = 110  # at or above this width the table shows every column


def _columns(wide: bool) -> list[tuple[str, str, int]]:
    """Column key, label, width. Narrow terminals (80 columns) get a symbol for the status."""
    name_width = 38 if wide else 26
    spark = 12 if wide else 6
    columns = [
        ("node", "Node", name_width), ("status", "Status" if wide else "", 7 if wide else 1),
        ("time", "Time", 6), ("median", "Median", 6), ("change", "Chg", 5), ("rows", "Rows", 6),
        ("drows", "ΔRows", 6), ("tspark", "Time trend" if wide else "Trend", spark),
    ]
    if wide:
        columns.append(("rspark", "Rows trend", spark))
    return columns


class RunTable(DataTable):
    """DataTable of node results; the cursor selects a node."""

    def __init__(self, **kwargs) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.view: RunView | None = None
        self.labels: dict[str, str] = {}
        self.filter_text = ""
        self._wide: bool | None = None

    # --- building -------------------------------------------------------------------------
    def show(self, view: RunView, labels: dict[str, str]) -> None:
        self.view, self.labels = view, labels
        self.rebuild()

    def rebuild(self) -> None:
        """Lay out every row again (new project, filter or width); keep the selected node."""
        if self.view is None:
            return
        selected = self.selected_uid
        self._wide = self.size.width >= WIDE
        self.clear(columns=True)
        for key, label, width in _columns(self._wide):
            self.add_column(label, width=width, key=key)
        for layer, states in self.view.groups():
            shown = [s for s in states if self._matches(s)]
            if not shown:
                continue
            self.add_row(Text(f"{layer} ({len(shown)})", style="bold"), key=GROUP_PREFIX + layer)
            for state in shown:
                self.add_row(*self._cells(state, time.time()), key=state.node.unique_id)
        if selected and selected in self.rows:
            self.move_cursor(row=self.get_row_index(selected), animate=False)
        elif self.row_count > 1:
            self.move_cursor(row=1, animate=False)

    def _matches(self, state: NodeState) -> bool:
        needle = self.filter_text.lower()
        if not needle:
            return True
        label = self.labels.get(state.node.unique_id, state.node.name).lower()
        return needle in label or needle in (state.status or "") or needle == state.node.resource_type

    def _label(self, state: NodeState) -> Text:
        width = _columns(bool(self._wide))[0][2] - 2
        text = self.labels.get(state.node.unique_id, state.node.name)
        if len(text) > width:
            text = text[: width - 1] + "…"
        style = "dim" if state.node.resource_type == "test" else ""
        return Text("  " + text, style=style)

    def _cells(self, state: NodeState, now: float) -> list:
        row = [
            self._label(state), cells.status_cell(state.status, not self._wide), cells.time_cell(state, now),
            Text(cells.seconds(state.median_s), style="dim", justify="right"), cells.ratio_cell(state),
            cells.rows_cell(state), cells.delta_rows_cell(state),
        ]
        spark = _columns(bool(self._wide))[-1][2]
        row.append(cells.spark_cell(state, "duration_s", spark))
        if self._wide:
            row.append(cells.spark_cell(state, "rows", spark))
        return row

    # --- updating -------------------------------------------------------------------------
    def update_nodes(self, uids: set[str]) -> None:
        if self.view is None:
            return
        keys = [c for c, _, _ in _columns(bool(self._wide))]
        now = time.time()
        for uid in uids:
            if uid not in self.rows:
                continue
            for key, value in zip(keys, self._cells(self.view.nodes[uid], now)):
                self.update_cell(uid, key, value)

    def tick(self) -> None:
        """Advance the elapsed timers of running nodes."""
        if self.view is None:
            return
        now = time.time()
        for uid, state in self.view.nodes.items():
            if state.running and uid in self.rows:
                self.update_cell(uid, "time", cells.time_cell(state, now))

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self.rebuild()

    def on_resize(self) -> None:
        if self.view is not None and (self.size.width >= WIDE) != self._wide:
            self.rebuild()

    # --- selection ------------------------------------------------------------------------
    @property
    def selected_uid(self) -> str | None:
        if self.row_count == 0 or self.view is None:
            return None
        key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value
        return None if key is None or key.startswith(GROUP_PREFIX) else key

    def select(self, uid: str) -> None:
        if uid in self.rows:
            self.move_cursor(row=self.get_row_index(uid))
