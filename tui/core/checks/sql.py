"""Read-only queries for the checks: `QueryRunner` runs SQL, returns rows as dicts and records every
query (label, SQL, seconds, rows) for the incident report; `open_warehouse` attaches a DuckDB file
read-only inside an in-memory DuckDB, under the catalog name the dbt relations use, so scratch
tables (full-refresh comparisons) never touch the warehouse.

Lock and missing-file errors become `WarehouseError` with a one-line message.
"""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any, Callable

import duckdb

from tui.core.checks.findings import QueryRecord

_PID = re.compile(r"PID (\d+)")


class WarehouseError(Exception):
    """The warehouse cannot be queried (message is one line with a way forward)."""


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


class QueryRunner:
    """One DuckDB connection, serialised by a lock; every query is logged in `queries`."""

    def __init__(self, conn: duckdb.DuckDBPyConnection, on_query: Callable[[QueryRecord], None] | None = None):
        self._conn = conn
        self._lock = threading.Lock()
        self.on_query = on_query
        self.queries: list[QueryRecord] = []
        self.closed = False

    def rows(self, sql: str, label: str) -> list[dict[str, Any]]:
        with self._lock:
            started = time.perf_counter()
            try:
                cursor = self._conn.execute(sql)
                names = [d[0] for d in cursor.description or []]
                fetched = cursor.fetchall() if names else []
            except duckdb.InterruptException as error:
                raise WarehouseError(f"{label}: query cancelled") from error
            except duckdb.ConnectionException as error:
                raise WarehouseError(f"{label}: the warehouse connection was closed") from error
            record = QueryRecord(label, sql.strip(), time.perf_counter() - started, len(fetched))
        self.queries.append(record)
        if self.on_query:
            self.on_query(record)
        return [dict(zip(names, row)) for row in fetched]

    def one(self, sql: str, label: str) -> dict[str, Any]:
        found = self.rows(sql, label)
        return found[0] if found else {}

    def columns(self, relation: str) -> list[tuple[str, str]]:
        """(name, DuckDB type) of a relation or table function, without reading its rows."""
        with self._lock:
            cursor = self._conn.execute(f"DESCRIBE SELECT * FROM {relation}")
            return [(row[0], str(row[1])) for row in cursor.fetchall()]

    def execute(self, sql: str) -> None:
        """Statements in the in-memory scratch catalog (temp tables); never the attached warehouse."""
        with self._lock:
            self._conn.execute(sql)

    def interrupt(self) -> None:
        """Stop the running query (from any thread); nothing happens when the runner is closed."""
        if not self.closed:
            try:
                self._conn.interrupt()
            except duckdb.Error:
                pass

    def close(self) -> None:
        self.closed = True
        with self._lock:
            self._conn.close()


def connect_memory() -> duckdb.DuckDBPyConnection:
    conn = duckdb.connect(":memory:")
    conn.execute("SET enable_progress_bar = false")
    return conn


def open_warehouse(path: Path | str, catalog: str | None = None, memory_limit: str | None = None,
                   file_search_path: Path | str | None = None) -> QueryRunner:
    """Attach `path` read-only as `catalog` (default: the file's stem, as dbt-duckdb names it).
    `file_search_path` is where relative file names in sources and views resolve (the raw folder)."""
    path = Path(path)
    if not path.is_file():
        raise WarehouseError(f"no warehouse at {path}: build the project first (pipeline-tui build)")
    conn = connect_memory()
    if memory_limit:
        conn.execute(f"SET memory_limit = {literal(memory_limit)}")
    if file_search_path:
        conn.execute(f"SET file_search_path = {literal(str(file_search_path))}")
    name = catalog or path.stem
    try:
        conn.execute(f"ATTACH {literal(str(path))} AS {quote(name)} (READ_ONLY)")
    except duckdb.Error as error:
        conn.close()
        raise WarehouseError(lock_message(path, error)) from error
    conn.execute(f"USE {quote(name)}")
    return QueryRunner(conn)


def lock_message(path: Path, error: Exception) -> str:
    text = str(error)
    if "lock" in text.lower():
        pid = _PID.search(text)
        holder = f" (PID {pid.group(1)})" if pid else ""
        return f"warehouse {path.name} is locked by another process{holder}: wait for it to finish and retry"
    return f"cannot open warehouse {path}: {text.splitlines()[0]}"
