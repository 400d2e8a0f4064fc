"""App-wide Textual messages: what the dbt bridge's threads tell the UI.

Threads only ever `post_message` these (thread-safe, non-blocking); handlers run on the UI
loop. Floods merge: `RunEventsPending` carries no payload, the app drains the event queue
when it handles one, so a burst of dbt events costs one UI update.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message


class RunEventsPending(Message):
    """New run events wait in the bridge's queue."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, RunEventsPending)


@dataclass
class DbtReady(Message):
    """The worker process imported dbt and parsed the project."""

    seconds: float


@dataclass
class DbtFailed(Message):
    """The worker could not start or a request failed before dbt ran: one line for the user."""

    error: str


@dataclass
class SetupProgress(Message):
    """First-start progress (demo data generation, first build)."""

    step: str
    fraction: float | None  # 0..1, None when unknown

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, SetupProgress)


@dataclass
class SetupDone(Message):
    """First-start set-up finished (error is one line, or None)."""

    error: str | None


@dataclass
class RunDone(Message):
    """An invocation returned (its RunFinished went through the event queue already)."""

    status: str
    error: str | None

