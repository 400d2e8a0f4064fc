"""Run history: a SQLite store (WAL mode) separate from the warehouse, safe for several processes.

Provides `HistoryStore` (open, write one run and its node results, query recent runs, per-node
history, medians and regressions, and a generic JSON `profiles` table for profiling/triage) and
`HistoryRecorder`, a callable that consumes the `tui.core.events` stream of an invocation and
writes it as it comes. Records are plain frozen dataclasses (`RunRecord`, `NodeResult`,
`Regression`, `ProfileRecord`). `open_notice(path)` opens a store at start and returns the one-line
notice to show when a broken file was moved aside.

Concurrency: every write is one `BEGIN IMMEDIATE` transaction with `busy_timeout`, in WAL mode
with `synchronous=NORMAL`, so the TUI and a headless command can record at the same time.
On open, runs left `running` by a process that no longer exists become `interrupted`; a file
that is not our store (corrupt, or another application's) is moved aside and a new one created.
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
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterator

from tui.core.events import NodeFinished, RunFinished, RunStarted

SCHEMA_VERSION = 1
APPLICATION_ID = 0x70747569  # "ptui": marks the file as ours
OK_STATUSES = ("success", "pass", "warn", "fail")  # a duration worth comparing (the node ran)

SCHEMA = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
CREATE TABLE runs (
    id TEXT PRIMARY KEY, command TEXT NOT NULL, selector TEXT, target TEXT,
    started_at REAL NOT NULL, finished_at REAL, status TEXT NOT NULL, git_rev TEXT,
    elapsed_s REAL, est_cost_usd REAL, full_refresh INTEGER NOT NULL DEFAULT 0, error TEXT,
    source TEXT NOT NULL DEFAULT 'session', pid INTEGER, host TEXT
);
CREATE INDEX runs_started ON runs (started_at);
CREATE TABLE node_results (
    run_id TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE, unique_id TEXT NOT NULL,
    name TEXT NOT NULL, resource_type TEXT NOT NULL, status TEXT NOT NULL,
    compile_s REAL, execute_s REAL, duration_s REAL, rows INTEGER, failures INTEGER,
    est_cost_usd REAL, message TEXT, started_at REAL, finished_at REAL, thread TEXT,
    PRIMARY KEY (run_id, unique_id)
);
CREATE INDEX node_results_node ON node_results (unique_id);
CREATE TABLE profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT, object TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'profile', payload TEXT NOT NULL, created_at REAL NOT NULL
);
CREATE INDEX profiles_object ON profiles (object, kind, created_at);
"""


class HistoryError(Exception):
    """The history store cannot be used (one line for the user)."""


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


def _record(cls, row: sqlite3.Row):
    return cls(**{f.name: row[f.name] for f in fields(cls)})


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
            self._conn = self._open_checked()
        except sqlite3.DatabaseError as error:
            self.moved_aside, self.moved_aside_reason = self._move_aside(error), str(error)
            self._conn = self._open_checked()
        self.mark_interrupted()

    # --- opening ---------------------------------------------------------------------------
    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=self._busy_ms / 1000, isolation_level=None,
                               check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {self._busy_ms}")
        return conn

    def _open_checked(self) -> sqlite3.Connection:
        conn = self._connect()
        try:
            if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            if tables and (app_id != APPLICATION_ID or "schema_version" not in tables):
                raise sqlite3.DatabaseError("not a pipeline-tui history store")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._create_or_check_schema(conn)
        except Exception:
            conn.close()
            raise
        return conn

    def _create_or_check_schema(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            row = conn.execute("SELECT name FROM sqlite_master WHERE name = 'schema_version'").fetchone()
            if row is None:  # statement by statement: executescript would commit mid-transaction
                for statement in filter(str.strip, SCHEMA.split(";")):
                    conn.execute(statement)
                conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(f"{self.path} was written by a newer pipeline-tui (schema {version}): upgrade")

    def _move_aside(self, error: Exception) -> Path:
        aside = self.path.with_name(f"{self.path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(str(self.path) + suffix)
            if source.exists():
                os.replace(source, Path(str(aside) + suffix))
        return aside

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
            _insert_node(conn, event)

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
                _insert_node(conn, node)

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
        return [_run(row) for row in rows]

    def get_run(self, run_id: str) -> RunRecord | None:
        rows = self._read("SELECT *, id AS run_id FROM runs WHERE id = ?", (run_id,))
        return _run(rows[0]) if rows else None

    def node_results(self, run_id: str) -> list[NodeResult]:
        rows = self._read("SELECT * FROM node_results WHERE run_id = ? ORDER BY started_at, unique_id", (run_id,))
        return [_record(NodeResult, row) for row in rows]

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
                history.setdefault(row["unique_id"], []).append(_record(NodeResult, row))
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


def _insert_node(conn: sqlite3.Connection, event: NodeFinished) -> None:
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


def _run(row: sqlite3.Row) -> RunRecord:
    values = {f.name: row[f.name] for f in fields(RunRecord)}
    values["full_refresh"] = bool(values["full_refresh"])
    return RunRecord(**values)


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
