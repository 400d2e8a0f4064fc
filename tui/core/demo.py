"""First start with no data: generate the demo raw feeds and build the embedded project once.

Provides `ensure_demo_data(workspace, progress, *, size="demo", session=None, on_event=None)`.
It does nothing (returns None) for a workspace that already has data or for a project other
than the embedded one; otherwise it generates the `baseline` scenario at `size` into
`workspace.raw_dir`, builds everything through a `DbtSession`, and returns the build's
`RunFinished`. `progress` receives short human-readable lines ("generating demo data…",
"built 3/25 stg_claims"); `on_event` receives every run event (e.g. for a progress bar).
The headless `build` command and the TUI's worker both call it.
"""

from __future__ import annotations

from typing import Any, Callable

from tui.core.events import NodeFinished, NodesPlanned, RunFinished
from tui.core.workspace import Workspace

Progress = Callable[[str], None]


def needs_demo_data(workspace: Workspace) -> bool:
    return workspace.embedded and not workspace.has_data()


def ensure_demo_data(workspace: Workspace, progress: Progress, *, size: str = "demo", session: Any = None,
                     on_event: Callable[[Any], None] | None = None) -> RunFinished | None:
    if not needs_demo_data(workspace):
        return None
    from tui.core.generator import generate

    workspace.ensure_dirs()
    progress(f"first start: generating the {size} dataset in {workspace.raw_dir}…")
    summary = generate(workspace.raw_dir, "baseline", size=size)
    progress(f"generated {summary.total_rows:,} raw rows in {summary.seconds:.1f} s; building the warehouse…")
    owned = session is None
    if owned:
        from tui.core.session import DbtSession

        session = DbtSession(workspace)
    try:
        return session.invoke("build", on_event=_reporter(progress, on_event), wait=True)
    finally:
        if owned:
            session.close()


def _reporter(progress: Progress, on_event: Callable[[Any], None] | None) -> Callable[[Any], None]:
    state = {"total": 0, "done": 0}

    def report(event: Any) -> None:
        if on_event is not None:
            on_event(event)
        if isinstance(event, NodesPlanned):
            state["total"] = event.total
        elif isinstance(event, NodeFinished):
            state["done"] += 1
            progress(f"built {state['done']}/{state['total'] or '?'} {event.name} ({event.status})")
        elif isinstance(event, RunFinished):
            progress("demo warehouse ready" if event.status == "success" else f"demo build failed: {event.error}")

    return report
