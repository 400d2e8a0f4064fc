"""Child process of bench_tui.py: start the cockpit like `pipeline-tui` does, print when the first frame is painted.

Prints `FIRST_FRAME <unix time>` after the first refresh of the run screen, then exits. The
parent measures from just before it spawned this interpreter, so Python's start-up counts.
`--import-dbt` imports dbt first: the counterfactual of an app that loads dbt before its first frame.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path


def main() -> None:
    target = Path(sys.argv[1])
    if "--import-dbt" in sys.argv:
        import dbt.cli.main  # noqa: F401

    from tui.app import PipelineApp
    from tui.core.cockpit import Cockpit, CockpitPaths

    class FirstFrameApp(PipelineApp):
        def on_mount(self) -> None:
            super().on_mount()
            self.call_after_refresh(self._painted)

        def _painted(self) -> None:
            print(f"FIRST_FRAME {time.time():.6f}", flush=True)
            self.exit()

    paths = CockpitPaths(target.parent, target, None, target.parent / "state")
    FirstFrameApp(Cockpit(paths)).run(headless=True, size=(80, 24))


if __name__ == "__main__":
    main()
