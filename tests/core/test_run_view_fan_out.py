"""The run view's fan-out signal on real builds: after the incident's build, the join that multiplies
claims (straight SQL: more rows than distinct claim ids, while its claims parent has one row per
claim) grows faster than its parents and is marked; after the clean next day nothing is."""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

from tui.core.cockpit import store_history
from tui.core.project import load_project
from tui.core.run_view import RunView

sys.path.insert(0, str(Path(__file__).resolve().parent / "checks"))
from triage_workspaces import incident_root, next_day_root, workspace  # noqa: E402


def marked(root: Path) -> set[str]:
    ws = workspace(root)
    project = load_project(ws.target_path)
    points, _ = store_history(ws.history_path)
    return {s.node.name for s in RunView(project, points(project)).nodes.values() if s.fan_out is not None}


def test_the_join_that_multiplies_claims_is_marked_after_the_incident():
    root = incident_root()
    with duckdb.connect(str(workspace(root).warehouse), read_only=True) as con:
        def dupes(table: str) -> int:
            name = con.execute(f"select table_schema from information_schema.tables where table_name = '{table}'").fetchone()[0]
            return con.execute(f"select count(*) - count(distinct claim_id) from {name}.{table}").fetchone()[0]
        assert dupes("int_claims_matched_to_coverage") > 0 == dupes("stg_benefits__claims")
    assert "int_claims_matched_to_coverage" in marked(root)
    assert "stg_benefits__claims" not in marked(root)


def test_nothing_is_marked_after_the_clean_next_day():
    assert marked(next_day_root()) == set()
