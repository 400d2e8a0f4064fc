"""Read-only queries on the warehouse for profiling and checks, from a process that is not running dbt.

Provides `Warehouse` (a context manager holding one read-only connection), `for_workspace(ws)`
(the file the profile's target points at) and the one-shot `query(path, sql, params) -> (columns, rows)`, plus `WarehouseLocked` (with the PID of the process
holding the file, parsed from DuckDB's error) and `WarehouseMissing`.

DuckDB allows one read-write process or many read-only ones. The dbt session releases the file
after each invocation, so reads succeed whenever no build is running; while one is, opening fails
at once with `WarehouseLocked` (retry with `retries=`/`retry_wait_s=`). Inside the process that
hosts a `DbtSession`, open this only between invocations (a read-only connection next to dbt's
read-write one in the same process fails: DuckDB refuses two configurations of one file).
The progress bar is always off (it writes to the terminal's file descriptor).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

from tui.core import errors


class WarehouseError(Exception):
    """The warehouse cannot be read (one line for the user)."""


class WarehouseMissing(WarehouseError):
    pass


class WarehouseLocked(WarehouseError):
    def __init__(self, pid: int | None, detail: str = ""):
        super().__init__(errors.locked_message(pid))
        self.pid = pid
        self.detail = detail


def _connect(path: Path):
    import duckdb

    if not path.is_file():
        raise WarehouseMissing(f"no warehouse at {path}: run `pipeline-tui build` first")
    try:
        conn = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as error:
        pid = errors.locked_by(str(error))
        if pid is not None or "lock" in str(error).lower():
            raise WarehouseLocked(pid, str(error)) from None
        raise WarehouseError(errors.translate(error)) from None
    conn.execute("SET enable_progress_bar = false")  # a connection setting, not a database option
    return conn


class Warehouse:
    """`with Warehouse(ws.warehouse) as wh: columns, rows = wh.query("select ...", [param])`."""

    def __init__(self, path: Path | str, *, retries: int = 0, retry_wait_s: float = 0.2):
        self.path = Path(path)
        for attempt in range(retries + 1):
            try:
                self._conn = _connect(self.path)
                break
            except WarehouseLocked:
                if attempt == retries:
                    raise
                time.sleep(retry_wait_s)

    def query(self, sql: str, params: Sequence[Any] | dict | None = None) -> tuple[list[str], list[tuple]]:
        import duckdb

        try:
            cursor = self._conn.execute(sql, params) if params is not None else self._conn.execute(sql)
            rows = cursor.fetchall()
        except duckdb.Error as error:
            raise WarehouseError(errors.translate(error)) from None
        columns = [d[0] for d in cursor.description] if cursor.description else []
        return columns, rows

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def for_workspace(workspace: Any, **options: Any) -> Warehouse:
    """The warehouse the workspace's profile target points at (`Workspace.profile_target()`), read-only;
    WarehouseMissing saying why when the target names no DuckDB file (in memory, another engine)."""
    target = workspace.profile_target()
    if target.warehouse is None:
        raise WarehouseMissing(target.why_no_warehouse())
    return Warehouse(target.warehouse, **options)


def query(path: Path | str, sql: str, params: Sequence[Any] | dict | None = None, *,
          retries: int = 0) -> tuple[list[str], list[tuple]]:
    """Open read-only, run one query, close: returns (column names, rows)."""
    with Warehouse(path, retries=retries) as warehouse:
        return warehouse.query(sql, params)
