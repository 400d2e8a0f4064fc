"""Helpers for the TUI tests: deterministic run history, apps built on it, screen text.

The fixed history gives the same points on every machine and every run, for snapshot tests
and screen tests that must not depend on live timings.
"""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from textual.widgets import Static

from tui.app import PipelineApp
from tui.core.cockpit import Cockpit, CockpitPaths
from tui.core.project import Project
from tui.core.run_view import Point

T0 = 1_700_000_000.0  # fixed epoch: snapshots never show "now"
RUNS = 6
SLOW_MODEL_FACTOR = 3.0  # the last run of the slowed model takes 3x: a regression to display


def fixed_history(project: Project, slow_model: str | None = None) -> dict[str, list[Point]]:
    history: dict[str, list[Point]] = {}
    for run in range(RUNS):
        clock = {"Thread-1": T0 + run * 3600, "Thread-2": T0 + run * 3600}
        for i, node in enumerate(project.in_dag_order()):
            thread = "Thread-1" if i % 2 == 0 else "Thread-2"
            duration = 0.1 + (i % 5) * 0.05 + run * 0.01
            if node.name == slow_model and run == RUNS - 1:
                duration *= SLOW_MODEL_FACTOR
            start = clock[thread]
            clock[thread] += duration
            is_test = node.resource_type == "test"
            history.setdefault(node.unique_id, []).append(Point(
                run_id=f"run-{run}", status="pass" if is_test else "success", duration_s=round(duration, 3),
                rows=None if is_test else 100 * (i + 1) + 10 * run, started_at=start, finished_at=start + duration,
                thread=thread, failures=0 if is_test else None, cost_usd=round(duration * 0.0002, 6),
            ))
    return history


def fixed_app(project_dir: Path, slow_model: str | None = "fct_claims",
              app_class: type[PipelineApp] = PipelineApp) -> PipelineApp:
    """The app on a parsed project with deterministic history and no dbt worker."""
    paths = CockpitPaths(project_dir, project_dir / "target", None, project_dir / "state")
    cockpit = Cockpit(paths, history=lambda project: fixed_history(project, slow_model))
    return app_class(cockpit)


def plain(renderable, width: int = 120) -> str:
    """What a Rich renderable or Textual content shows, as plain text."""
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.export_text()


def statics_text(screen) -> str:
    return "\n".join(plain(w.content) for w in screen.query(Static))


MODELS = {
    "staging/stg_claims.sql": "select range as claim_id, range % 7 as employee_id, range % 2 + 1 as plan_id from range(200)",
    "staging/stg_employees.sql": "select range as employee_id, 'd' || (range % 3) as department from range(7)",
    "intermediate/int_claims_enriched.sql": (
        "select c.*, e.department from {{ ref('stg_claims') }} c join {{ ref('stg_employees') }} e using (employee_id)"),
    "marts/fct_claims.sql": "{{ config(materialized='table') }} select * from {{ ref('int_claims_enriched') }}",
    "marts/fct_department_claims.sql": (
        "{{ config(materialized='table') }} select department, count(*) as claims from {{ ref('fct_claims') }} group by 1"),
}
SCHEMA = """
version: 2
models:
  - name: stg_claims
    description: One row per claim.
    columns:
      - name: claim_id
        description: Claim key.
        data_tests: [unique, not_null]
  - name: fct_claims
    description: Claims with the employee's department.
    columns:
      - name: claim_id
        description: Claim key.
        data_tests: [unique]
"""


def make_tiny_project(root: Path) -> Path:
    """Write a small real dbt project (staging, intermediate, marts, tests) into root and parse it."""
    (root / "dbt_project.yml").write_text("name: tiny\nversion: '1.0'\nprofile: tiny\n")
    (root / "profiles.yml").write_text(
        f"tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {root / 'w.duckdb'}\n")
    for rel, sql in MODELS.items():
        (root / "models" / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / "models" / rel).write_text(sql)
    (root / "models" / "_models.yml").write_text(SCHEMA)
    bin_dir = Path(sys.executable).parent
    subprocess.run(
        [str(bin_dir / "dbt"), "parse", "--project-dir", str(root), "--profiles-dir", str(root)],
        check=True, capture_output=True, env={"DO_NOT_TRACK": "1", "PATH": str(bin_dir), "HOME": str(root)},
    )
    return root


# --- live apps on a real dbt worker ------------------------------------------------------
RUN_TIMEOUT_S = 180


async def wait_for(pilot, condition, timeout: float = RUN_TIMEOUT_S) -> None:
    """Let the app run until `condition()` holds (no fixed sleeps)."""
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the app")
        await pilot.pause(0.05)


async def started(pilot) -> None:
    """Until the app has read the project (right after its first frame)."""
    await wait_for(pilot, lambda: pilot.app.started, timeout=30)
    await pilot.pause()


async def ready(pilot) -> None:
    app = pilot.app
    await wait_for(pilot, lambda: app.header_info.dbt_state == "dbt ready" and not app.bridge.busy)
    await pilot.pause()  # signal subscribers redraw on their next turn


async def run_key(pilot, key: str) -> None:
    """Press a run key and wait until its invocation finished and the UI took in every event."""
    app = pilot.app
    await ready(pilot)
    previous = app.view.run if app.view else None
    await pilot.press(key)
    await wait_for(pilot, lambda: app.view is not None and app.view.run is not previous)
    await wait_for(pilot, lambda: not app.bridge.busy and app.view.finished is not None)
    await pilot.pause()


def results(app) -> dict[str, tuple]:
    """Per node: (status, run id) of its shown result."""
    return {uid: (s.status, s.current.run_id if s.current else None) for uid, s in app.view.nodes.items()}


def changed_since(app, before: dict[str, tuple]) -> set[str]:
    after = results(app)
    return {uid for uid in after if after[uid] != before.get(uid)}


def select(app, name: str) -> str:
    from tui.widgets.run_table import RunTable

    uid = app.cockpit.project.find(name).unique_id
    app.screen.query_one(RunTable).select(uid)
    return uid


def descendants(project, uid: str) -> set[str]:
    """Every node downstream of uid (tests excluded), by walking the manifest's child map."""
    seen, todo = set(), [uid]
    while todo:
        for child in project.downstream(todo.pop()):
            if child not in seen and child in project.nodes:
                seen.add(child)
                todo.append(child)
    return seen
