"""The process environment dbt needs before it is imported, in a process that hosts it for long.

Provides `prepare_dbt_environment(project_dir)`: telemetry and version check off unless the user
turned them on (env or `dbt_project.yml` flags); multiprocessing's resource tracker started (dbt
starts it with `sys.stderr`'s descriptor, which fails when a UI has replaced `sys.stderr`).
"""

from __future__ import annotations

import os
from pathlib import Path


def prepare_dbt_environment(project_dir: Path) -> None:
    user_flags = _project_flags(project_dir)
    if "DO_NOT_TRACK" not in os.environ and "send_anonymous_usage_stats" not in user_flags:
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    if "version_check" not in user_flags:
        os.environ.setdefault("DBT_VERSION_CHECK", "false")
    _start_resource_tracker()


def _start_resource_tracker() -> None:
    """Start Python's resource tracker now (dbt's locks start it; under Textual's replaced stderr that
    fails later), with its stderr on /dev/null: its only words are 'leaked semaphore objects'
    warnings printed after this process was killed, harmless (the kernel frees them) and alarming."""
    import multiprocessing.resource_tracker

    saved = os.dup(2)
    try:
        quiet = os.open(os.devnull, os.O_WRONLY)
        os.dup2(quiet, 2)
        os.close(quiet)
        multiprocessing.resource_tracker.ensure_running()
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _project_flags(project_dir: Path) -> dict:
    try:
        import yaml

        data = yaml.safe_load((Path(project_dir) / "dbt_project.yml").read_text()) or {}
        return data.get("flags") or {}
    except Exception:  # unreadable YAML is dbt's to report, not ours
        return {}
