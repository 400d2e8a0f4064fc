"""The worker's child keeps its long-lived heap out of the garbage collector's view (`gc.freeze`).

Runs the child's request loop in this process (real dbt, real DuckDB), then thaws the heap again.
"""

from __future__ import annotations

import gc
import io
import json

from tiny_dbt import make_tiny_dbt_project
from tui.core.dbt_host.worker import _Child
from tui.core.workspace import Workspace


def serve(child: _Child, *requests: dict) -> list[dict]:
    for request in requests:
        child.requests.put(request)
    child.requests.put(None)
    child._runner()
    return [json.loads(line) for line in child.protocol.getvalue().splitlines()]


def test_the_heap_is_frozen_after_the_first_run_and_again_after_a_reparse(tmp_path):
    project = make_tiny_dbt_project(tmp_path / "project")
    child = _Child(Workspace.resolve(workspace=tmp_path / "ws", project_dir=project), io.StringIO(), {})
    try:
        lines = serve(child, {"op": "run", "command": "build"})
        assert [line["type"] for line in lines if line["type"] in ("Ready", "RunFinished")] == ["Ready", "RunFinished"]
        assert lines[-1]["status"] == "success"
        first = child.session.manifest
        assert child._frozen_manifest is first and gc.get_freeze_count() > 50_000  # dbt and the manifest
        frozen = gc.get_freeze_count()

        (project / "models" / "marts" / "fct_more.sql").write_text("select 1 as id")  # a re-parse
        child.protocol = io.StringIO()
        lines = serve(child, {"op": "run", "command": "run", "select": "fct_more"},
                      {"op": "run", "command": "run", "select": "fct_more"})
        assert [line["status"] for line in lines if line["type"] == "RunFinished"] == ["success", "success"]
        assert child.session.manifest is not first and child._frozen_manifest is child.session.manifest
        assert gc.get_freeze_count() > 50_000 and gc.get_freeze_count() != frozen  # thawed, frozen anew
    finally:
        child.session.close()
        gc.unfreeze()
