"""The run history's records: plain frozen dataclasses and their mapping to and from SQLite rows.

Provides `RunRecord`, `NodeResult`, `Regression`, `ProfileRecord`, `node_duration(event)` (wall time
of a node), `run_from_row`, `record_from_row` and `insert_node(conn, event)`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, fields
from typing import Any

from tui.core.run_events import NodeFinished


@dataclass(frozen=True)
class RunRecord:
    run_id: str
    command: str
    selector: str | None
    target: str | None
    started_at: float
    finished_at: float | None
    status: str  # running, success, error, cancelled, interrupted
    git_rev: str | None
    elapsed_s: float | None
    est_cost_usd: float | None  # estimate, see tui.core.costs
    full_refresh: bool
    error: str | None
    source: str  # session (recorded live) or import (from run_results.json)


@dataclass(frozen=True)
class NodeResult:
    run_id: str
    unique_id: str
    name: str
    resource_type: str
    status: str
    compile_s: float | None
    execute_s: float | None
    duration_s: float | None  # wall time of the node: finished - started (or compile + execute)
    rows: int | None
    failures: int | None
    est_cost_usd: float | None
    message: str | None
    started_at: float | None
    finished_at: float | None
    thread: str | None


@dataclass(frozen=True)
class Regression:
    unique_id: str
    name: str
    run_id: str
    duration_s: float
    median_s: float
    ratio: float


@dataclass(frozen=True)
class ProfileRecord:
    id: int
    run_id: str | None
    object: str
    kind: str
    payload: Any
    created_at: float


def record_from_row(cls, row: sqlite3.Row):
    return cls(**{f.name: row[f.name] for f in fields(cls)})


def insert_node(conn: sqlite3.Connection, event: NodeFinished) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO node_results (run_id, unique_id, name, resource_type, status, compile_s,"
        " execute_s, duration_s, rows, failures, est_cost_usd, message, started_at, finished_at, thread)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (event.run_id, event.unique_id, event.name, event.resource_type, event.status, event.compile_s,
         event.execute_s, node_duration(event), event.rows, event.failures, event.est_cost_usd,
         event.message, event.started_at, event.finished_at, event.thread),
    )


def node_duration(event: NodeFinished) -> float | None:
    """Wall time of a node: finished - started when both are known, else compile + execute."""
    if event.started_at is not None and event.finished_at is not None:
        return max(0.0, event.finished_at - event.started_at)
    parts = [p for p in (event.compile_s, event.execute_s) if p is not None]
    return sum(parts) if parts else None


def run_from_row(row: sqlite3.Row) -> RunRecord:
    values = {f.name: row[f.name] for f in fields(RunRecord)}
    values["full_refresh"] = bool(values["full_refresh"])
    return RunRecord(**values)
