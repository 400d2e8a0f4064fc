"""Headless entry points: the whole playbook (`run_triage`) and the CI guardrail (`run_checks`).

Both open the workspace's warehouse read-only, pick the baseline, run, store this run's facts in
history as a later baseline, and close the warehouse. Setup problems raise `TriageError` (one line).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from tui.core.checks.baseline import BaselineError, open_context
from tui.core.checks.config import ChecksConfig, ConfigError
from tui.core.checks.context import CheckContext
from tui.core.checks.engine import StepResult, run_families, run_step, save_facts
from tui.core.checks.findings import Finding
from tui.core.checks.incident import SESSION_FILE, IncidentSession
from tui.core.checks.playbook import Playbook, load_playbook
from tui.core.checks.sql import WarehouseError
from tui.core.project import ManifestMissing

SETUP_ERRORS = (ManifestMissing, WarehouseError, BaselineError, ConfigError)


class TriageError(Exception):
    """Triage or checks could not start (one line for the user)."""


def open_for(workspace: Any, baseline_run_id: str | None = None, checks_dirs: tuple[Path, ...] = ()) -> CheckContext:
    try:
        return open_context(workspace, baseline_run_id=baseline_run_id, config=ChecksConfig.load(checks_dirs))
    except SETUP_ERRORS as error:
        raise TriageError(str(error)) from error
    except Exception as error:  # history store problems and the like
        raise TriageError(f"cannot open the workspace for checks: {str(error).splitlines()[0]}") from error


def run_triage(workspace: Any, *, baseline_run_id: str | None = None, checks_dirs: tuple[Path, ...] = (),
               on_step: Callable[[int, int, StepResult], None] | None = None,
               session_path: Path | None = None) -> tuple[IncidentSession, Playbook]:
    ctx = open_for(workspace, baseline_run_id, checks_dirs)
    try:
        playbook = load_playbook(ctx.config)
        session = IncidentSession.start(session_path or workspace.root / SESSION_FILE.with_name("headless.json"), playbook,
                                        getattr(ctx.latest_run, "run_id", None), ctx.baseline.run_id)
        steps = playbook.steps
        for index, step in enumerate(steps, 1):
            result = run_step(ctx, step)
            session.record(result)
            if on_step:
                on_step(index, len(steps), result)
        save_facts(ctx)
        session.log("triage finished")
        session.save()
        return session, playbook
    finally:
        close(ctx)


def run_checks(workspace: Any, *, families: list[str] | None = None, baseline_run_id: str | None = None,
               checks_dirs: tuple[Path, ...] = ()) -> tuple[list[Finding], CheckContext]:
    ctx = open_for(workspace, baseline_run_id, checks_dirs)
    try:
        chosen = families or list(ctx.config.get("check.families", []))
        findings = run_families(ctx, chosen)
        save_facts(ctx)
        return findings, ctx
    finally:
        close(ctx)


def close(ctx: CheckContext) -> None:
    ctx.runner.close()
    if ctx.history is not None:
        ctx.history.close()
