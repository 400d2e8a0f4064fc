"""What every check family reads: the project, the warehouse runner, thresholds, the latest and
baseline runs, the baseline's stored facts, a place to leave facts of this run (saved to history
as the next baseline), and the checks that do not apply to the project (`skip`). Profiles are
computed once and shared by the families that need them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tui.core.checks.config import ChecksConfig
from tui.core.checks.profile import TableProfile, profile_table
from tui.core.checks.sql import QueryRunner
from tui.core.checks.targets import TableSpec, project_targets
from tui.core.project import Project


@dataclass
class Baseline:
    """Facts stored by an earlier triage or check, keyed like `CheckContext.facts`."""
    run_id: str | None = None
    started_at: float | None = None
    git_rev: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)

    def profiles(self) -> dict[str, TableProfile]:
        return {name: TableProfile.from_dict(p) for name, p in self.facts.get("profiles", {}).items()}


@dataclass
class CheckContext:
    project: Project
    runner: QueryRunner
    config: ChecksConfig
    project_dir: Path | None = None
    profiles_dir: Path | None = None
    raw_dir: Path | None = None
    history: Any = None  # tui.core.history.HistoryStore, when there is one
    latest_run: Any = None  # tui.core.history.RunRecord
    baseline: Baseline = field(default_factory=Baseline)
    facts: dict[str, Any] = field(default_factory=dict)
    findings: list = field(default_factory=list)  # findings of the steps run so far (later steps read them)
    progress: Callable[[str, float | None], None] = lambda message, fraction: None
    open_runner: Callable[[], QueryRunner] | None = None  # reopens the warehouse (see hold/release)
    cancelled: threading.Event = field(default_factory=threading.Event)
    family_seconds: dict[str, float] = field(default_factory=dict)  # time spent in each check family
    skipped: dict[str, str] = field(default_factory=dict)  # check or rule id -> why it does not apply here
    _specs: list[TableSpec] | None = None
    _profiles: dict[str, TableProfile] | None = None

    def specs(self) -> list[TableSpec]:
        if self._specs is None:
            self._specs = project_targets(self.project, self.runner, self.config)
        return self._specs

    def spec(self, object: str) -> TableSpec | None:
        return next((s for s in self.specs() if s.object == object), None)

    def profiles(self) -> dict[str, TableProfile]:
        """Every target profiled once per context (the costly part of triage)."""
        if self._profiles is None:
            profiles: dict[str, TableProfile] = {}
            specs = self.specs()
            for index, spec in enumerate(specs):
                self.check_cancelled()  # a partial set of profiles is never cached
                self.progress(f"profiling {spec.object}", index / max(len(specs), 1))
                try:
                    profiles[spec.object] = profile_table(self.runner, spec, self.config)
                except Exception as error:  # noqa: BLE001 - one unreadable table must not stop triage
                    self.facts.setdefault("errors", []).append(f"profile {spec.object}: {str(error).splitlines()[0]}")
            self._profiles = profiles
            self.facts["profiles"] = {name: p.to_dict() for name, p in profiles.items()}
        return self._profiles

    def skip(self, what: str, reason: str) -> None:
        """A check that does not apply to this project: neither a finding nor a pass, listed once."""
        self.skipped.setdefault(what, reason)

    def release(self) -> None:
        """Close the warehouse between steps, so a build in another process can take it."""
        if self.open_runner is not None:
            self.runner.close()

    def hold(self) -> None:
        """Reopen the warehouse released by `release` (a fresh read-only attach, about 20 ms)."""
        if self.open_runner is not None:
            self.runner = self.open_runner()

    def check_cancelled(self) -> None:
        if self.cancelled.is_set():
            raise Cancelled("triage step cancelled")


class Cancelled(Exception):
    """The user stopped a step."""
