"""The triage playbook: phases and steps read from `checks/playbook.yml` (DESIGN.md's first-30-minute
plan), as frozen dataclasses. Each step names the check families it runs.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.checks.config import ChecksConfig, ConfigError, read_yaml


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    help: str
    checks: tuple[str, ...]
    phase: str


@dataclass(frozen=True)
class Phase:
    id: str
    title: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Playbook:
    title: str
    minutes: int
    phases: tuple[Phase, ...]

    @property
    def steps(self) -> list[Step]:
        return [step for phase in self.phases for step in phase.steps]

    def step(self, step_id: str) -> Step:
        found = next((s for s in self.steps if s.id == step_id), None)
        if found is None:
            raise KeyError(f"no step {step_id!r} in the playbook")
        return found

    def phase_of(self, step_id: str) -> Phase:
        return next(p for p in self.phases if any(s.id == step_id for s in p.steps))


def load_playbook(config: ChecksConfig) -> Playbook:
    files = config.files("playbook.yml")
    if not files:
        raise ConfigError("no playbook.yml in the checks folders (reinstall pipeline-tui)")
    raw = read_yaml(files[-1])
    try:
        phases = tuple(
            Phase(p["id"], p["title"], tuple(Step(s["id"], s["title"], " ".join(str(s.get("help", "")).split()),
                                                  tuple(s.get("checks", [])), p["id"]) for s in p.get("steps", [])))
            for p in raw["phases"])
    except (KeyError, TypeError) as error:
        raise ConfigError(f"{files[-1]}: a phase or step lacks {error}") from error
    return Playbook(raw.get("title", "Triage"), int(raw.get("minutes", 30)), phases)
