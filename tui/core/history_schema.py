"""The run history's SQLite file: schema, versioning, opening with checks, moving a broken file aside.

Provides `SCHEMA_VERSION`, `APPLICATION_ID` (marks the file as ours), `HistoryError`, and for
`tui.core.history.HistoryStore`: `connect(path, busy_ms)`, `open_checked(path, busy_ms)` (quick
integrity check, refuses a foreign file, WAL mode, creates the schema or checks its version; raises
`sqlite3.DatabaseError` for a file to move aside) and `move_aside(path)`.
A later release migrates from `SCHEMA_VERSION` here.
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

SCHEMA_VERSION = 1
APPLICATION_ID = 0x70747569  # "ptui": marks the file as ours

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


def connect(path: Path, busy_ms: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=busy_ms / 1000, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {busy_ms}")
    return conn


def open_checked(path: Path, busy_ms: int) -> sqlite3.Connection:
    conn = connect(path, busy_ms)
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
        create_or_check_schema(conn, path)
    except Exception:
        conn.close()
        raise
    return conn


def create_or_check_schema(conn: sqlite3.Connection, path: Path) -> None:
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
        raise HistoryError(f"{path} was written by a newer pipeline-tui (schema {version}): upgrade")


def move_aside(path: Path) -> Path:
    """Rename the file (and its -wal/-shm) to `<name>.broken-<timestamp>`; returns the new path."""
    aside = path.with_name(f"{path.name}.broken-{time.strftime('%Y%m%d-%H%M%S')}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(path) + suffix)
        if source.exists():
            os.replace(source, Path(str(aside) + suffix))
    return aside
