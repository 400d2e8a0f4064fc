"""Child process of bench_tui.py: open the cockpit as `pipeline-tui` does, print when the first frame is painted.

    python bench/tui_first_frame_child.py WORKSPACE_ROOT
    python bench/tui_first_frame_child.py --empty      # reference: an empty Textual app

Prints `FIRST_FRAME <unix time>` after the first refresh of the run screen, then exits. The
parent measures from just before it spawned this interpreter, so Python's start-up counts.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def empty_app() -> None:
    """Reference: a Textual app with one label, timed the same way."""
    from textual.app import App
    from textual.widgets import Label

    class Empty(App):
        def compose(self):
            yield Label("hello")

        def on_mount(self) -> None:
            self.call_after_refresh(lambda: (print(f"FIRST_FRAME {time.time():.6f}", flush=True), self.exit()))

    Empty().run(headless=True, size=(80, 24))


def main() -> None:
    if sys.argv[1] == "--empty":
        return empty_app()
    from tui.app import PipelineApp
    from tui.core.workspace import Workspace
    from tui.launch import build_app

    class FirstFrameApp(PipelineApp):
        def on_mount(self) -> None:  # Textual runs PipelineApp.on_mount too (handlers run per class)
            self.call_after_refresh(self._painted)

        def _painted(self) -> None:
            print(f"FIRST_FRAME {time.time():.6f}", flush=True)
            self.exit()

        def _start_background(self) -> None:
            """The worker starts after the first frame; spawning it here would only leave a dbt
            import running on the shared cores and slow the next samples."""

    workspace = Workspace.resolve(workspace=Path(sys.argv[1]))
    build_app(workspace, app_class=FirstFrameApp).run(headless=True, size=(80, 24))


if __name__ == "__main__":
    main()
