"""Roll the warehouse back to its state at the end of an earlier successful run.

    plan = plan_rollback(workspace, to=None)     # RollbackError (one line) on bad input
    plan.changes                                 # what differs now, relation by relation
    result = apply_rollback(workspace, plan)     # atomic; recorded in history as a `rollback` run

The default run is the newest successful run before the latest one whose `check` had no failure
(of those with a checkpoint: partial rebuilds have none unless PIPELINE_TUI_CHECKPOINTS=all).
Restoring is all or nothing: the checkpoint (`tui.core.checkpoints`) is copied next to the
warehouse while this process holds the warehouse's lock, then renamed over it in one atomic
rename; a kill or Ctrl+C before the rename leaves the warehouse as it was, and Ctrl+C is held
back from the rename until the history has recorded it. Relations created after that run go
with the rest: the plan lists them as `removed` before anything changes.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tui.core import checkpoints
from tui.core.checkpoints import Checkpoint, CheckpointError, WAREHOUSE_COMMANDS
from tui.core.run_events import NodeFinished, RunStarted
from tui.core.history import HistoryStore, RunRecord


class RollbackError(Exception):
    """The rollback cannot run (one line for the user); nothing was changed."""


@dataclass(frozen=True)
class RelationChange:
    relation: str  # schema.name
    change: str  # restored (differs now), removed (created later), recreated (dropped later)
    rows_now: int | None
    rows_then: int | None


@dataclass(frozen=True)
class RollbackPlan:
    target: RunRecord
    checkpoint: Checkpoint
    later_runs: tuple[RunRecord, ...]
    changes: tuple[RelationChange, ...]
    warehouse_bytes: int
    retained_bytes: int  # disk used by every retained checkpoint


@dataclass(frozen=True)
class RollbackResult:
    run_id: str
    target_run_id: str
    changes: tuple[RelationChange, ...]
    seconds: float


def _store(workspace: Any) -> HistoryStore:
    if not Path(workspace.history_path).is_file():
        raise RollbackError("no runs recorded yet: build first (`pipeline-tui build`)")
    return HistoryStore(workspace.history_path)


def plan_rollback(workspace: Any, to: str | None = None) -> RollbackPlan:
    try:
        warehouse = checkpoints.duckdb_file(workspace)
    except CheckpointError as error:
        raise RollbackError(str(error)) from None
    with _store(workspace) as store:
        runs = store.recent_runs(10_000)
        target = _chosen(runs, to, checkpoints.check_verdicts(store),
                         {c.run_id for c in checkpoints.list_checkpoints(workspace)})
    checkpoint = checkpoints.find(workspace, target.run_id)
    kept = checkpoints.list_checkpoints(workspace)
    if checkpoint is None:
        names = ", ".join(c.run_id[:8] for c in kept) or "none"
        raise RollbackError(f"run {target.run_id[:8]} is older than the retained checkpoints (retained: {names}); "
                            f"keep more good runs with {checkpoints.KEEP_ENV}=N")
    if Path(checkpoint.warehouse).name != warehouse.name:
        raise RollbackError(f"the checkpoint of run {target.run_id[:8]} is of another warehouse "
                            f"({Path(checkpoint.warehouse).name}): check --target")
    later = tuple(r for r in runs if r.started_at > target.started_at)
    changes = tuple(compare(warehouse, checkpoint.path, _names_built(workspace, later)))
    if not changes:
        raise RollbackError(f"nothing to roll back: the warehouse already matches run {target.run_id[:8]}")
    return RollbackPlan(target, checkpoint, later, changes, warehouse.stat().st_size,
                        sum(c.bytes for c in kept))


def _chosen(runs: list[RunRecord], to: str | None, verdicts: dict[str, str], kept: set[str]) -> RunRecord:
    if to:
        matches = [r for r in runs if r.run_id.startswith(to)]
        if not matches:
            raise RollbackError(f"no run matches {to!r}: see `pipeline-tui history`")
        if len(matches) > 1:
            raise RollbackError(f"{to!r} matches {len(matches)} runs: give more characters of the run id")
        run = matches[0]
        if run.command not in WAREHOUSE_COMMANDS:
            raise RollbackError(f"run {run.run_id[:8]} was a `{run.command}`: choose a build (`pipeline-tui rollback --list`)")
        if run.status != "success":
            raise RollbackError(f"run {run.run_id[:8]} ended {run.status}: only a successful run can be restored "
                                "(`pipeline-tui rollback --list`)")
        return run
    good = [r for r in runs[1:] if r.command in WAREHOUSE_COMMANDS and r.status == "success"
            and verdicts.get(r.run_id) not in (None, "fail")]
    if not good:
        raise RollbackError("no successful run before the latest has a clean `pipeline-tui check`: "
                            "name one with --to RUN_ID (`pipeline-tui rollback --list`)")
    # a good partial rebuild has no checkpoint by default: the newest good run that has one
    return next((r for r in good if r.run_id in kept), good[0])


def _names_built(workspace: Any, runs: tuple[RunRecord, ...]) -> set[str]:
    """Relations the later runs wrote, by node name (history keeps names, not relations)."""
    with HistoryStore(workspace.history_path) as store:
        return {n.name for r in runs for n in store.node_results(r.run_id)
                if n.resource_type in ("model", "seed", "snapshot") and n.status not in ("skipped", "cancelled")}


def compare(warehouse: Path, checkpoint: Path, built_later: set[str]) -> list[RelationChange]:
    """Relations that differ between the warehouse now and the checkpoint: written by a later run,
    or another row count, columns or view SQL (which catches changes made outside pipeline-tui)."""
    import duckdb

    conn = duckdb.connect(":memory:")
    try:
        conn.execute("SET enable_progress_bar = false")
        for alias, path in (("now_db", warehouse), ("then_db", checkpoint)):
            try:
                conn.execute(f"ATTACH '{_sql_string(path)}' AS {alias} (READ_ONLY)")
            except duckdb.Error as error:
                raise RollbackError(_open_error(error)) from None
        now, then = _catalog(conn, "now_db"), _catalog(conn, "then_db")
    finally:
        conn.close()
    changes = []
    for relation in sorted(set(now) | set(then)):
        before, after = then.get(relation), now.get(relation)
        if before is None:
            changes.append(RelationChange(relation, "removed", after[0], None))
        elif after is None:
            changes.append(RelationChange(relation, "recreated", None, before[0]))
        elif before != after or relation.split(".", 1)[-1] in built_later:
            changes.append(RelationChange(relation, "restored", after[0], before[0]))
    return changes


def _catalog(conn: Any, database: str) -> dict[str, tuple]:
    """schema.name -> (rows, columns signature, view SQL) of every table and view of one database."""
    found: dict[str, tuple] = {}
    tables = conn.execute("SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = ?",
                          [database]).fetchall()
    for schema, name in tables:
        rows = conn.execute(f'SELECT count(*) FROM {database}."{schema}"."{name}"').fetchone()[0]
        found[f"{schema}.{name}"] = (rows, _columns(conn, database, schema, name), None)
    views = conn.execute("SELECT schema_name, view_name, sql FROM duckdb_views() WHERE database_name = ? AND NOT internal",
                         [database]).fetchall()
    for schema, name, sql in views:
        found[f"{schema}.{name}"] = (None, _columns(conn, database, schema, name), sql)
    return found


def _columns(conn: Any, database: str, schema: str, name: str) -> tuple:
    return tuple(conn.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE database_name = ? AND "
                              "schema_name = ? AND table_name = ? ORDER BY column_index",
                              [database, schema, name]).fetchall())


def _open_error(error: Exception) -> str:
    from tui.core import errors

    pid = errors.locked_by(str(error))
    if pid is not None or "lock" in str(error).lower():
        return errors.locked_message(pid)
    return errors.translate(error)


def _sql_string(path: Path) -> str:
    return str(path).replace("'", "''")


def apply_rollback(workspace: Any, plan: RollbackPlan) -> RollbackResult:
    """Restore the checkpoint over the warehouse, all or nothing, and record it as a run."""
    run_id, started = str(uuid.uuid4()), time.time()
    try:
        warehouse = checkpoints.duckdb_file(workspace)
    except CheckpointError as error:
        raise RollbackError(str(error)) from None
    tmp = warehouse.with_name(f".{warehouse.name}.rollback-{run_id[:8]}.tmp")
    with HistoryStore(workspace.history_path) as store:
        store.start_run(RunStarted(run_id, "rollback", plan.target.run_id, workspace.target, started))
        try:
            with checkpoints.hold_warehouse(warehouse):  # nobody else can open the file until the rename
                for stale in warehouse.parent.glob(f".{warehouse.name}.rollback-*.tmp"):
                    stale.unlink(missing_ok=True)  # left by a rollback that was killed
                _room_for(warehouse, plan.checkpoint)
                checkpoints.copy_file(plan.checkpoint.path, tmp)
                with _uninterrupted():
                    os.replace(tmp, warehouse)
                    _fsync_dir(warehouse.parent)
                    result = RollbackResult(run_id, plan.target.run_id, plan.changes, time.time() - started)
                    _record(store, workspace, result, started, "success", None)
        except (CheckpointError, OSError) as error:
            line = str(error).splitlines()[0]
            _record(store, workspace, _nothing(run_id, plan, started), started, "error", line)
            raise RollbackError(f"rollback not done, the warehouse is unchanged: {line}") from None
        except KeyboardInterrupt:
            _record(store, workspace, _nothing(run_id, plan, started), started, "cancelled", "cancelled by the user")
            raise
        finally:
            tmp.unlink(missing_ok=True)
    try:
        checkpoints.prune(workspace)
    except (CheckpointError, OSError):  # restored already: old checkpoints go at the next prune
        pass
    return result


def _room_for(warehouse: Path, checkpoint: Checkpoint) -> None:
    import shutil

    free = shutil.disk_usage(warehouse.parent).free
    if free < checkpoint.bytes * 1.05:
        raise CheckpointError(f"not enough free disk beside the warehouse ({free / 1e6:,.0f} MB free, "
                              f"{checkpoint.bytes / 1e6:,.0f} MB needed)")


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _uninterrupted() -> Iterator[None]:
    """Ctrl+C waits until the rename and its history record are both done (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt


def _nothing(run_id: str, plan: RollbackPlan, started: float) -> RollbackResult:
    return RollbackResult(run_id, plan.target.run_id, (), time.time() - started)


def _record(store: HistoryStore, workspace: Any, result: RollbackResult, started: float, status: str,
            error: str | None) -> None:
    finished = started + result.seconds
    run = RunRecord(result.run_id, "rollback", result.target_run_id, workspace.target, started, finished,
                    status, None, result.seconds, None, False, error, "session")
    nodes = [NodeFinished(result.run_id, f"relation.{c.relation}", c.relation, "relation", c.change, None,
                          finished, None, None, rows=c.rows_then) for c in result.changes]
    store.write_run(run, nodes)
