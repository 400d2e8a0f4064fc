"""The cockpit header: project, target, warehouse file and size, last run, dbt state and modes.

Renders a `HeaderInfo` the app keeps; the app publishes changes on its `status_changed`
signal, every header (one per screen) redraws itself from it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from tui.widgets.cells import BAD, OK, UP, WARN


@dataclass
class HeaderInfo:
    project: str = ""
    target: str = "dev"
    warehouse: str = ""
    warehouse_bytes: int | None = None
    last_run_status: str | None = None
    last_run_at: float | None = None
    dbt_state: str = "dbt loading…"  # "dbt ready", "dbt loading…", "dbt running build", "dbt failed"
    full_refresh: bool = False
    watching: bool = False


def _ago(at: float | None) -> str:
    if at is None:
        return "never"
    seconds = max(0, time.time() - at)
    for limit, unit in ((86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= limit:
            return f"{int(seconds // limit)}{unit} ago"
    return f"{int(seconds)}s ago"


def _size(n: int | None) -> str:
    if n is None:
        return ""
    for limit, unit in ((1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if n >= limit:
            return f"{n / limit:.1f} {unit}"
    return f"{n} B"


def _parts(info: HeaderInfo) -> list[tuple[int, str, str]]:
    """(priority, text, style) of each part, in display order; the lowest priority goes first when
    the line is too narrow."""
    state_style = OK if info.dbt_state == "dbt ready" else BAD if "failed" in info.dbt_state else WARN
    last = "never" if info.last_run_at is None else f"{info.last_run_status or ''} {_ago(info.last_run_at)}".strip()
    parts = [(9, info.project or "no project", "bold")]
    if info.target:  # empty until the profile is read
        parts.append((2, f" · {info.target}", ""))
    parts.append((8, f" · {info.dbt_state}", state_style))
    if info.full_refresh:
        parts.append((7, " FULL-REFRESH ", "bold black on " + WARN))
    if info.watching:
        parts.append((7, " WATCH ", "bold black on " + UP))
    parts.append((4, f" · last run {last}", ""))
    if info.warehouse:
        parts.append((1, f" · {info.warehouse} {_size(info.warehouse_bytes)}".rstrip(), ""))
    return parts


def render_header(info: HeaderInfo, width: int | None = None) -> Text:
    """The header line; at `width` columns, whole parts are dropped, least important first
    (warehouse, then target, then last run), rather than cutting one in the middle."""
    parts = _parts(info)
    while width and len(parts) > 1 and 3 + sum(len(text) for _, text, _ in parts) > width:
        parts.remove(min(parts, key=lambda part: part[0]))
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(" ◆ ", style="bold")
    for _, part, style in parts:
        text.append(part, style=style)
    return text


class CockpitHeader(Static):
    """One-line status header docked at the top of every screen."""

    def on_mount(self) -> None:
        self.redraw()
        signal = getattr(self.app, "status_changed", None)
        if signal is not None:
            signal.subscribe(self, lambda _: self.redraw())
        self.set_interval(30, self.redraw)  # keeps "last run 3m ago" honest

    def redraw(self) -> None:
        info = getattr(self.app, "header_info", None)
        self.update(render_header(info, self.size.width or None) if info else "", layout=False)

    def on_resize(self) -> None:
        self.redraw()
