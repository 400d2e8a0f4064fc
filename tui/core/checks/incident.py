"""The triage session: which run is being triaged against which baseline, each step's latest result,
what the engineer marked done, their notes, and a timeline. Saved as JSON in the workspace
(`triage/session.json`, written atomically) so it survives quitting and reopening.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui.core.checks.engine import StepResult
from tui.core.checks.findings import Finding, by_severity
from tui.core.checks.playbook import Playbook

SESSION_FILE = Path("triage") / "session.json"


def write_atomic(path: Path, text: str) -> None:
    """Write a temp file beside `path`, then rename it over `path` (readers never see half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@dataclass
class StepState:
    result: StepResult | None = None
    marked: bool | None = None  # the engineer's own mark; None: done once the verdict is in
    notes: str = ""
    done_at: float | None = None

    @property
    def done(self) -> bool:
        return self.marked if self.marked is not None else self.result is not None


@dataclass
class IncidentSession:
    path: Path
    started_at: float
    latest_run_id: str | None = None
    baseline_run_id: str | None = None
    steps: dict[str, StepState] = field(default_factory=dict)
    notes: str = ""
    timeline: list[tuple[float, str]] = field(default_factory=list)
    selected_step: str | None = None  # kept across visits to the screen

    @classmethod
    def start(cls, path: Path, playbook: Playbook, latest_run_id: str | None, baseline_run_id: str | None) -> IncidentSession:
        session = cls(Path(path), time.time(), latest_run_id, baseline_run_id, {s.id: StepState() for s in playbook.steps})
        session.log(f"triage started on run {latest_run_id or '(no recorded run)'}, baseline {baseline_run_id or 'none'}")
        return session

    @classmethod
    def load(cls, path: Path) -> IncidentSession | None:
        """The saved session, or None when there is none or it cannot be read (a new one then starts)."""
        try:
            data = json.loads(Path(path).read_text())
            steps = {sid: StepState(StepResult.from_dict(s["result"]) if s.get("result") else None,
                                    s.get("marked", s.get("done") or None),  # "done": sessions saved before
                                    s.get("notes", ""), s.get("done_at")) for sid, s in data.get("steps", {}).items()}
            return cls(Path(path), float(data["started_at"]), data.get("latest_run_id"), data.get("baseline_run_id"),
                       steps, data.get("notes", ""), [(float(t), str(x)) for t, x in data.get("timeline", [])],
                       data.get("selected_step"))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def to_dict(self) -> dict[str, Any]:
        return {"started_at": self.started_at, "latest_run_id": self.latest_run_id, "baseline_run_id": self.baseline_run_id,
                "notes": self.notes, "timeline": [list(t) for t in self.timeline], "selected_step": self.selected_step,
                "steps": {sid: {"result": s.result.to_dict() if s.result else None, "marked": s.marked, "notes": s.notes,
                                "done_at": s.done_at} for sid, s in self.steps.items()}}

    def save(self) -> None:
        write_atomic(self.path, json.dumps(self.to_dict(), indent=1, default=str))

    def log(self, text: str, at: float | None = None) -> None:
        self.timeline.append((at or time.time(), text))

    def state(self, step_id: str) -> StepState:
        return self.steps.setdefault(step_id, StepState())

    def record(self, result: StepResult) -> None:
        self.state(result.step).result = result
        self.log(f"step {result.step}: {result.status}, {result.verdict} ({result.seconds:.1f}s)", result.started_at + result.seconds)

    def mark_done(self, step_id: str, done: bool = True) -> None:
        state = self.state(step_id)
        state.marked, state.done_at = done, (time.time() if done else None)
        self.log(f"step {step_id} marked {'done' if done else 'not done'}")

    def set_notes(self, step_id: str | None, text: str) -> None:
        if step_id is None:
            self.notes = text
        else:
            self.state(step_id).notes = text
        self.log(f"notes updated{' on step ' + step_id if step_id else ''}")

    def findings(self) -> list[Finding]:
        return by_severity(f for s in self.steps.values() if s.result for f in s.result.findings)

    def elapsed(self, now: float | None = None) -> float:
        return (now or time.time()) - self.started_at

    def report_stem(self, folder: Path) -> str:
        """A new name for each export: the run triaged and the time of the export (never overwrites)."""
        base = f"incident-{(self.latest_run_id or 'norun')[:8]}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}"
        stem, n = base, 1
        while (Path(folder) / f"{stem}.md").exists() or (Path(folder) / f"{stem}.json").exists():
            n += 1
            stem = f"{base}-{n}"
        return stem
