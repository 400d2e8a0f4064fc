"""Run history: a SQLite store (WAL mode) separate from the warehouse, safe for several processes.

Provides `HistoryStore` (open, write one run and its node results, query recent runs, per-node
history, medians and regressions, and a generic JSON `profiles` table for profiling/triage) and
`HistoryRecorder`, a callable that consumes the `tui.core.run_events` stream of an invocation and
writes it as it comes. Records are plain frozen dataclasses (`RunRecord`, `NodeResult`,
`Regression`, `ProfileRecord`). `open_notice(path)` opens a store at start and returns the one-line
notice to show when a broken file was moved aside.

Concurrency: every write is one `BEGIN IMMEDIATE` transaction with `busy_timeout`, in WAL mode
with `synchronous=NORMAL`, so the TUI and a headless command can record at the same time.
On open, runs left `running` by a process that no longer exists become `interrupted`; a file
that is not our store (corrupt, or another application's) is moved aside and a new one created.
The file's schema and checks live in `tui.core.history_schema`, the records in
`tui.core.history_records`; their public names are importable from here too.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import statistics
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from tui.core.run_events import NodeFinished, RunFinished, RunStarted
from tui.core.history_records import (  # noqa: F401  (re-exported: the store's public records)
    NodeResult, ProfileRecord, Regression, RunRecord, insert_node, node_duration, record_from_row, run_from_row,
)
from tui.core.history_schema import (  # noqa: F401  (re-exported)
    APPLICATION_ID, SCHEMA_VERSION, HistoryError, move_aside, open_checked,
)

OK_STATUSES = ("success", "pass", "warn", "fail")  # a duration worth comparing (the node ran)


class HistoryStore:
    """One connection per store object; thread-safe (an internal lock); many processes may share the file."""

    def __init__(self, path: Path | str, *, busy_timeout_s: float = 30.0):
        self.path = Path(path)
        self.moved_aside: Path | None = None  # set when a broken/foreign file was replaced
        self.moved_aside_reason: str | None = None
        self._lock = threading.RLock()
        self._busy_ms = int(busy_timeout_s * 1000)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = open_checked(self.path, self._busy_ms)
        except sqlite3.DatabaseError as error:
            self.moved_aside, self.moved_aside_reason = move_aside(self.path), str(error)
            self._conn = open_checked(self.path, self._busy_ms)
        self.mark_interrupted()

    @property
    def notice(self) -> str | None:
        """One line for the user when a broken or foreign file was moved aside on open."""
        if self.moved_aside is None:
            return None
        return (f"run history {self.path} could not be used ({self.moved_aside_reason}): moved aside to "
                f"{self.moved_aside.name}, a new history was started")

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One transaction, taken at once (BEGIN IMMEDIATE) so concurrent writers queue, never deadlock."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def _read(self, sql: str, params: tuple = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    # --- writes ----------------------------------------------------------------------------
    def start_run(self, event: RunStarted, git_rev: str | None = None) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO runs (id, command, selector, target, started_at, status, git_rev,"
                " full_refresh, pid, host) VALUES (?, ?, ?, ?, ?, 'running', ?, ?, ?, ?)",
                (event.run_id, event.command, event.selector, event.target, event.started_at, git_rev,
                 int(event.full_refresh), os.getpid(), socket.gethostname()),
            )

    def add_node(self, event: NodeFinished) -> None:
        with self._write() as conn:
            insert_node(conn, event)

    def finish_run(self, event: RunFinished) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE runs SET finished_at = ?, status = ?, elapsed_s = ?, error = ?,"
                " est_cost_usd = (SELECT sum(est_cost_usd) FROM node_results WHERE run_id = ?) WHERE id = ?",
                (event.finished_at, event.status, event.elapsed_s, event.error, event.run_id, event.run_id),
            )

    def write_run(self, run: RunRecord, nodes: list[NodeFinished]) -> None:
        """A whole run at once (imports): replaces a run with the same id, in one transaction."""
        with self._write() as conn:
            conn.execute("DELETE FROM runs WHERE id = ?", (run.run_id,))
            conn.execute(
                "INSERT INTO runs (id, command, selector, target, started_at, finished_at, status, git_rev,"
                " elapsed_s, est_cost_usd, full_refresh, error, source) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (run.run_id, run.command, run.selector, run.target, run.started_at, run.finished_at,
                 run.status, run.git_rev, run.elapsed_s, run.est_cost_usd, int(run.full_refresh),
                 run.error, run.source),
            )
            for node in nodes:
                insert_node(conn, node)

    def mark_interrupted(self) -> int:
        """Runs left 'running' by a process of this host that is gone become 'interrupted'."""
        host = socket.gethostname()
        rows = self._read("SELECT id, pid FROM runs WHERE status = 'running' AND host = ?", (host,))
        dead = [row["id"] for row in rows if not _pid_alive(row["pid"])]
        if dead:
            with self._write() as conn:
                conn.executemany("UPDATE runs SET status = 'interrupted' WHERE id = ? AND status = 'running'",
                                 [(run_id,) for run_id in dead])
        return len(dead)

    def put_profile(self, object: str, payload: Any, *, run_id: str | None = None, kind: str = "profile") -> int:
        """Store a JSON payload about an object (a relation, a column, a check); returns its id."""
        with self._write() as conn:
            cursor = conn.execute(
                "INSERT INTO profiles (run_id, object, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                (run_id, object, kind, json.dumps(payload, default=str), time.time()),
            )
            return int(cursor.lastrowid)

    # --- queries ---------------------------------------------------------------------------
    def recent_runs(self, limit: int = 20, command: str | None = None) -> list[RunRecord]:
        """Newest first."""
        where, params = ("WHERE command = ?", (command,)) if command else ("", ())
        rows = self._read(f"SELECT *, id AS run_id FROM runs {where} ORDER BY started_at DESC LIMIT ?",
                          (*params, limit))
        return [run_from_row(row) for row in rows]

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._read("SELECT *, id AS run_id FROM runs WHERE id = ?", (run_id,))
        return run_from_row(rows[0]) if rows else None

    def node_results(self, run_id: str) -> list[NodeResult]:
        rows = self._read("SELECT * FROM node_results WHERE run_id = ? ORDER BY started_at, unique_id", (run_id,))
        return [record_from_row(NodeResult, row) for row in rows]

    def node_history(self, unique_ids: list[str] | None = None, last: int = 20) -> dict[str, list[NodeResult]]:
        """Per node, its results in the last `last` runs that included it, oldest first."""
        rows = self._read(
            "SELECT * FROM (SELECT n.*, row_number() OVER (PARTITION BY n.unique_id ORDER BY r.started_at DESC)"
            " AS k, r.started_at AS run_started FROM node_results n JOIN runs r ON r.id = n.run_id)"
            " WHERE k <= ? ORDER BY unique_id, run_started", (last,))
        wanted = set(unique_ids) if unique_ids is not None else None
        history: dict[str, list[NodeResult]] = {}
        for row in rows:
            if wanted is None or row["unique_id"] in wanted:
                history.setdefault(row["unique_id"], []).append(record_from_row(NodeResult, row))
        return history

    def medians(self, last: int = 20, exclude_run: str | None = None) -> dict[str, float]:
        """Median duration per node over its last `last` results that ran (not errors or skips)."""
        medians = {}
        for uid, results in self.node_history(last=last + (1 if exclude_run else 0)).items():
            times = [r.duration_s for r in results
                     if r.run_id != exclude_run and r.status in OK_STATUSES and r.duration_s is not None]
            if times:
                medians[uid] = statistics.median(times[-last:])
        return medians

    def regressions(self, run_id: str | None = None, ratio: float = 2.0, min_delta_s: float = 0.1,
                    last: int = 20) -> list[Regression]:
        """Nodes of a run (default: the latest) at least `ratio` x and `min_delta_s` slower than their median."""
        run_id = run_id or next((r.run_id for r in self.recent_runs(1)), None)
        if run_id is None:
            return []
        medians = self.medians(last, exclude_run=run_id)
        found = []
        for node in self.node_results(run_id):
            median = medians.get(node.unique_id)
            if median and node.duration_s is not None and node.duration_s >= median * ratio \
                    and node.duration_s - median >= min_delta_s:
                found.append(Regression(node.unique_id, node.name, run_id, node.duration_s, median,
                                        node.duration_s / median))
        return sorted(found, key=lambda r: -r.ratio)

    def profiles(self, object: str | None = None, kind: str | None = None, limit: int = 50) -> list[ProfileRecord]:
        """Newest first, filtered by object and/or kind."""
        clauses = [c for c, v in (("object = ?", object), ("kind = ?", kind)) if v is not None]
        where = "WHERE " + " AND ".join(clauses) if clauses else ""
        params = tuple(v for v in (object, kind) if v is not None)
        rows = self._read(f"SELECT * FROM profiles {where} ORDER BY created_at DESC, id DESC LIMIT ?",
                          (*params, limit))
        return [ProfileRecord(r["id"], r["run_id"], r["object"], r["kind"], json.loads(r["payload"]),
                              r["created_at"]) for r in rows]


def open_notice(path: Path | str) -> str | None:
    """Open an existing store once at start: repairs what can be (dead runs become interrupted, a
    broken or foreign file is moved aside) and returns the notice to show, if any."""
    if not Path(path).exists():
        return None
    with HistoryStore(path) as store:
        return store.notice


def _pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class HistoryRecorder:
    """Feed it every event of an invocation; it writes the run and its node results as they come.

    A history write that fails never breaks the run: the first error is kept in `error`.
    """

    def __init__(self, store: HistoryStore, git_rev: str | None = None):
        self.store = store
        self.git_rev = git_rev
        self.error: str | None = None

    def __call__(self, event: Any) -> None:
        try:
            if isinstance(event, RunStarted):
                self.store.start_run(event, self.git_rev)
            elif isinstance(event, NodeFinished):
                self.store.add_node(event)
            elif isinstance(event, RunFinished):
                self.store.finish_run(event)
        except (sqlite3.Error, HistoryError) as error:
            self.error = self.error or f"run history not recorded: {error}"
