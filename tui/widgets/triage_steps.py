"""The triage checklist: the playbook's phases as headings and their steps, each with a done mark,
its state (pending, running, or its verdict's status) and its title."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from tui.core.checks.incident import IncidentSession
from tui.core.checks.playbook import Playbook

STATUS_STYLE = {"fail": "bold red", "warn": "yellow", "pass": "green", "error": "bold red", "running": "cyan"}


def step_prompt(title: str, done: bool, status: str | None) -> Text:
    text = Text(" ")
    text.append("[x] " if done else "[ ] ", style="bold green" if done else "dim")
    label = {"running": "RUN", "error": "ERR", "skipped": "SKIP"}.get(status or "", (status or "todo").upper())
    text.append(f"{label:<4} ", style=STATUS_STYLE.get(status or "", "dim"))
    text.append(title)
    return text


class StepList(OptionList):
    """Phases (disabled headings) and steps (option id = step id)."""

    def show(self, playbook: Playbook, session: IncidentSession, running: set[str]) -> None:
        highlighted = getattr(self, "_wanted", None) or (self.highlighted_option.id if self.highlighted_option else None)
        self._wanted = None
        options: list[Option] = []
        for number, phase in enumerate(playbook.phases, 1):
            options.append(Option(Text(f"{number}. {phase.title}", style="bold"), id=f"phase:{phase.id}", disabled=True))
            for step in phase.steps:
                state = session.state(step.id)
                status = "running" if step.id in running else (state.result.status if state.result else None)
                options.append(Option(step_prompt(step.title, state.done, status), id=step.id))
        self.set_options(options)
        ids = [o.id for o in options]
        target = highlighted if highlighted in ids else next((o.id for o in options if not o.disabled), None)
        if target is not None:
            self.highlighted = ids.index(target)

    def select_step(self, step_id: str | None) -> None:
        """Highlight this step on the next `show` (a step kept from an earlier visit)."""
        self._wanted = step_id

    @property
    def step_id(self) -> str | None:
        option = self.highlighted_option
        return option.id if option is not None and not option.disabled else None
