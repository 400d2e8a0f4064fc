"""The UI process never imports dbt: the first frame must not wait for it (`import dbt.cli.main` ~1.4 s).

A fresh interpreter imports `tui.app`, builds the app the way `pipeline-tui` does (`tui.launch.build_app`),
paints its first frame headless and lets it start its worker (dbt runs in that child process), then
lists the dbt modules it has loaded itself.
"""

from __future__ import annotations

import json
import subprocess
import sys

FIRST_FRAME = """
import asyncio, json, sys
import tui.app
from tui.launch import build_app
from tui.core.workspace import Workspace

after_import = sorted(m for m in sys.modules if m == "dbt" or m.startswith(("dbt.", "dbt_")))
app = build_app(Workspace.resolve(workspace=sys.argv[1], project_dir=sys.argv[2]))

async def first_frame():
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause(0.5)
        started = app.bridge is not None

    return started

started = asyncio.run(first_frame())
loaded = sorted(m for m in sys.modules if m == "dbt" or m.startswith(("dbt.", "dbt_")))
print(json.dumps({"after_import": after_import, "after_first_frame": loaded, "bridge": started,
                  "host_loaded": "tui.core.dbt_host.session" in sys.modules}))
"""


def test_the_ui_process_imports_no_dbt_through_its_first_frame(tiny_workspace):
    out = subprocess.run([sys.executable, "-c", FIRST_FRAME, str(tiny_workspace.root),
                          str(tiny_workspace.project_dir)], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert found["bridge"], "the app did not build its worker bridge: the test would prove nothing"
    assert found["after_import"] == [] and found["after_first_frame"] == []
    assert not found["host_loaded"]  # the session (and its patches) live in the worker process only
