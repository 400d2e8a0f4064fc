"""Typed events of a dbt invocation.

The session turns dbt's callbacks into these frozen dataclasses. The same stream feeds
the headless CLI's progress, the TUI and the history store; the worker process sends
them over its pipe as JSON lines (`to_json` / `from_json`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunStarted:
    run_id: str  # dbt's invocation id
    command: str  # build, run, test, seed, snapshot, source freshness, show
    selector: str | None
    target: str | None
    started_at: float  # unix seconds
    full_refresh: bool = False


@dataclass(frozen=True)
class NodesPlanned:
    """How many nodes this invocation will execute (dbt's "Concurrency"/start lines)."""

    run_id: str
    total: int


@dataclass(frozen=True)
class NodeStarted:
    run_id: str
    unique_id: str
    name: str
    resource_type: str  # model, test, seed, snapshot, source
    materialized: str | None
    thread: str | None
    started_at: float
    index: int | None = None  # position among the nodes of this run (1-based)


@dataclass(frozen=True)
class NodeFinished:
    run_id: str
    unique_id: str
    name: str
    resource_type: str
    status: str  # success, error, skipped, pass, fail, warn, cancelled
    started_at: float | None
    finished_at: float
    compile_s: float | None
    execute_s: float | None
    thread: str | None = None
    message: str | None = None
    rows: int | None = None  # row count of the relation after the node ran (models, seeds, snapshots)
    failures: int | None = None  # failing rows, for tests
    est_cost_usd: float | None = None  # estimate: execute seconds x the configured rate per hour


@dataclass(frozen=True)
class Warned:
    run_id: str
    code: str  # dbt's event name, e.g. DeprecatedReference
    message: str
    unique_id: str | None = None


@dataclass(frozen=True)
class LogLine:
    run_id: str
    level: str
    message: str


@dataclass(frozen=True)
class RunFinished:
    run_id: str
    status: str  # success, error, cancelled, interrupted
    finished_at: float
    elapsed_s: float
    error: str | None = None  # one line, for the user
    failed: int = 0  # nodes that ended in error, fail or cancelled


Event = RunStarted | NodesPlanned | NodeStarted | NodeFinished | Warned | LogLine | RunFinished

EVENT_TYPES: dict[str, type] = {
    cls.__name__: cls
    for cls in (RunStarted, NodesPlanned, NodeStarted, NodeFinished, Warned, LogLine, RunFinished)
}


def to_json(event: Event) -> str:
    return json.dumps({"type": type(event).__name__, **dataclasses.asdict(event)})


def from_json(line: str) -> Event:
    data: dict[str, Any] = json.loads(line)
    cls = EVENT_TYPES[data.pop("type")]
    return cls(**data)
