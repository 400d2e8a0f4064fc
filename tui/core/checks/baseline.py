"""Opening a triage: the workspace's project, a read-only warehouse runner, the latest run, and the
baseline: facts stored by an earlier triage or check. Chosen automatically (the newest earlier run
whose checks had no fail, else the newest earlier one) or by run id.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tui.core.checks.config import ChecksConfig
from tui.core.checks.context import Baseline, CheckContext
from tui.core.checks.engine import FACTS_KIND, FACTS_OBJECT
from tui.core.checks.findings import FAIL
from tui.core.checks.sql import WarehouseError, open_warehouse
from tui.core.project import load_project


MEMORY_ENV = "PIPELINE_TUI_MEMORY_LIMIT"  # the same DuckDB memory limit the builds get


class BaselineError(Exception):
    """The baseline asked for is not available (one line for the user)."""


def choose_baseline(history: Any, latest_run: Any, run_id: str | None = None) -> Baseline:
    if history is None:
        return Baseline()
    records = history.profiles(object=FACTS_OBJECT, kind=FACTS_KIND, limit=500)
    latest_id = getattr(latest_run, "run_id", None)
    if run_id is not None:
        chosen = next((r for r in records if r.run_id == run_id), None)
        if chosen is None:
            known = ", ".join(dict.fromkeys(r.run_id for r in records if r.run_id)) or "none yet"
            raise BaselineError(f"no stored checks for run {run_id}: run `pipeline-tui check` after that run "
                                f"(runs with stored checks: {known})")
        return _baseline(history, chosen)
    earlier = [r for r in records if r.run_id != latest_id or latest_id is None]
    if latest_id is not None:
        started = getattr(latest_run, "started_at", None)
        earlier = [r for r in earlier if started is None or (r.payload.get("run_started_at") or 0) <= started]
    clean = [r for r in earlier if r.payload.get("worst") != FAIL]
    chosen = (clean or earlier or [None])[0]
    return _baseline(history, chosen) if chosen else Baseline()


def _baseline(history: Any, record: Any) -> Baseline:
    run = history.get_run(record.run_id) if record.run_id else None
    started = getattr(run, "started_at", None) or record.payload.get("run_started_at") or record.created_at
    return Baseline(record.run_id, started, getattr(run, "git_rev", None) or record.payload.get("git_rev"), record.payload)


def latest_run(history: Any) -> Any:
    """The newest run that built something or rolled it back, whatever its outcome (a failed build is when
    triage matters; after a rollback the checks describe the restored state)."""
    if history is None:
        return None
    runs = history.recent_runs(50)
    return next((r for r in runs if r.command in ("build", "run", "seed", "snapshot", "rollback")), runs[0] if runs else None)


def open_context(workspace: Any, *, baseline_run_id: str | None = None, config: ChecksConfig | None = None,
                 checks_dirs: tuple[Path, ...] = (), history: Any = None) -> CheckContext:
    """Everything a triage needs, from a `tui.core.workspace.Workspace`. Raises one-line errors."""
    from tui.core.history import HistoryStore

    config = config or ChecksConfig.load(checks_dirs)
    target = workspace.profile_target()
    warehouse = target_warehouse(target)  # first: a target without a file is the real cause
    project = load_project(workspace.target_path)
    history = history if history is not None else (HistoryStore(workspace.history_path) if workspace.history_path.exists() else None)
    latest = latest_run(history)
    baseline = choose_baseline(history, latest, baseline_run_id)

    def open_runner():  # relative file names resolve as in dbt's runs (the profile's search path)
        return open_warehouse(warehouse, catalog=_catalog(project, warehouse), file_search_path=target.search_path,
                              memory_limit=os.environ.get(MEMORY_ENV) or None)

    return CheckContext(project, open_runner(), config, project_dir=workspace.project_dir, profiles_dir=workspace.profiles_dir,
                        raw_dir=workspace.raw_dir, history=history, latest_run=latest, baseline=baseline,
                        open_runner=open_runner)


def target_warehouse(target: Any) -> Path:
    """The DuckDB file the profile's target (`Workspace.profile_target()`, resolved as dbt resolves
    it) points at; WarehouseError (one line) saying why when it names none."""
    if target.warehouse is None:
        from tui.core.errors import missing_adapter

        missing = target.adapter and target.adapter != "duckdb" and missing_adapter(
            target.adapter, f"target '{target.name}' of profile '{target.profile}'")
        raise WarehouseError(missing or target.why_no_warehouse())
    return target.warehouse


def _catalog(project: Any, warehouse: Path) -> str:
    """The database name dbt's relation names use (the first quoted part), else the file's stem."""
    for node in project.nodes.values():
        name = node.relation_name or ""
        if name.startswith('"') and name.count('"') >= 6:
            return name.split('"')[1]
    return warehouse.stem
