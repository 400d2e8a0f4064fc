"""Per-run checkpoints of the warehouse, the state `rollback` restores (DuckDB engine).

Provides `Checkpoint`, `CheckpointError`, `after_run(workspace, command, finished, partial)` (the
one call the dbt session makes as an invocation ends, before it reports the end: a successful
build, run, seed or snapshot gets a checkpoint, then retention prunes), `take`, `list_checkpoints`, `prune`, `keep_setting`,
`check_verdicts` (the worst `check` result stored per run) and `hold_warehouse` (a read-write
connection that keeps every other process out of the file while it is open).

Mechanism (DuckDB): a checkpoint is a byte copy of the warehouse file, taken after DuckDB's own
CHECKPOINT while this process holds the file's lock, so no writer can change it mid-copy and no
WAL is left behind. Copies live in `<workspace root>/checkpoints/<run id>.duckdb` with a JSON
sidecar (taken at, seconds, bytes, warehouse). A copy is written as `.part` and renamed: a kill
leaves no half checkpoint. The copy is in-kernel (`copy_file_range`: a reflink on filesystems
that have one). The whole file is kept, not only the relations a run changed: the dbt_audit
tables, snapshots and views come back with the models, and DuckDB has no cheaper clone.

When: after each successful run of the whole project (`PIPELINE_TUI_CHECKPOINTS=full`, the
default), after partial ones too (`all`), or never (`off`).
Retention (`PIPELINE_TUI_ROLLBACK_KEEP`, default 1; 0 turns checkpoints off): the checkpoints of
the newest N good runs (successful, and their `check` had no failure), plus the newest run not
checked yet (it becomes the good one once a clean check runs). Others are deleted.
"""

from __future__ import annotations

import json
import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from tui.core import errors

KEEP_ENV = "PIPELINE_TUI_ROLLBACK_KEEP"
WHEN_ENV = "PIPELINE_TUI_CHECKPOINTS"  # full (default): runs of the whole project; all; off
WAREHOUSE_COMMANDS = ("build", "run", "seed", "snapshot")  # invocations that change the warehouse
_CHUNK = 64 << 20


class CheckpointError(Exception):
    """A checkpoint cannot be taken or used (one line for the user)."""


@dataclass(frozen=True)
class Checkpoint:
    run_id: str
    path: Path
    bytes: int
    taken_at: float
    seconds: float  # time the copy took
    warehouse: str  # the file it is a copy of


def keep_setting() -> int:
    raw = os.environ.get(KEEP_ENV, "").strip()
    try:
        return max(0, int(raw)) if raw else 1
    except ValueError:
        return 1


def folder(workspace: Any) -> Path:
    return Path(workspace.root) / "checkpoints"


@contextmanager
def hold_warehouse(path: Path) -> Iterator[Any]:
    """A read-write connection to the warehouse: while it is open no other process can open the file."""
    import duckdb

    if not path.is_file():
        raise CheckpointError(f"no warehouse at {path}: run `pipeline-tui build` first")
    try:
        conn = duckdb.connect(str(path))
    except duckdb.Error as error:
        pid = errors.locked_by(str(error))
        if pid is not None or "lock" in str(error).lower() or "configuration" in str(error).lower():
            raise CheckpointError(errors.locked_message(pid)) from None
        raise CheckpointError(errors.translate(error)) from None
    try:
        conn.execute("SET enable_progress_bar = false")
        conn.execute("CHECKPOINT")  # everything in the main file, no WAL beside it
        yield conn
    finally:
        conn.close()


def copy_file(source: Path, target: Path) -> None:
    """Copy in the kernel, then fsync: the copy is on disk before anyone renames it into place."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        size = os.fstat(src.fileno()).st_size
        done = 0
        try:
            while done < size:
                sent = os.copy_file_range(src.fileno(), dst.fileno(), min(_CHUNK, size - done))
                if sent == 0:
                    break
                done += sent
        except OSError:  # filesystems without copy_file_range
            src.seek(done)
            dst.seek(done)
            while block := src.read(_CHUNK):
                dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())


def duckdb_file(workspace: Any) -> Path:
    """The warehouse file the profile's target points at; CheckpointError (one line) when the target
    has none (another engine, `:memory:`): checkpoints and rollback are for a DuckDB file."""
    warehouse = workspace.warehouse
    if warehouse is None:
        raise CheckpointError(f"{workspace.profile_target().why_no_warehouse()}: checkpoints and rollback "
                              "need a DuckDB file")
    return Path(warehouse)


def take(workspace: Any, run_id: str) -> Checkpoint:
    warehouse = duckdb_file(workspace)
    target_dir = folder(workspace)
    target_dir.mkdir(parents=True, exist_ok=True)
    final, part = target_dir / f"{run_id}.duckdb", target_dir / f"{run_id}.duckdb.part"
    started = time.perf_counter()
    try:
        with hold_warehouse(warehouse):
            copy_file(warehouse, part)
        os.replace(part, final)
    finally:
        part.unlink(missing_ok=True)
    checkpoint = Checkpoint(run_id, final, final.stat().st_size, time.time(), time.perf_counter() - started,
                            str(warehouse))
    sidecar = final.with_suffix(".json")
    tmp = sidecar.with_suffix(".json.part")
    tmp.write_text(json.dumps({**checkpoint.__dict__, "path": str(final)}))
    os.replace(tmp, sidecar)
    return checkpoint


def list_checkpoints(workspace: Any) -> list[Checkpoint]:
    """Complete checkpoints, newest first."""
    found = []
    for sidecar in folder(workspace).glob("*.json"):
        data_file = sidecar.with_suffix(".duckdb")
        try:
            meta = json.loads(sidecar.read_text())
            found.append(Checkpoint(meta["run_id"], data_file, data_file.stat().st_size, float(meta["taken_at"]),
                                    float(meta["seconds"]), meta["warehouse"]))
        except (OSError, ValueError, KeyError):
            continue
    return sorted(found, key=lambda c: -c.taken_at)


def find(workspace: Any, run_id: str) -> Checkpoint | None:
    return next((c for c in list_checkpoints(workspace) if c.run_id == run_id), None)


def delete(checkpoint: Checkpoint) -> None:
    checkpoint.path.with_suffix(".json").unlink(missing_ok=True)
    checkpoint.path.unlink(missing_ok=True)


def check_verdicts(store: Any) -> dict[str, str]:
    """Per run id, the worst status of its newest stored `check`/triage (fail, warn or pass)."""
    from tui.core.checks.engine import FACTS_KIND, FACTS_OBJECT

    verdicts: dict[str, str] = {}
    for record in store.profiles(object=FACTS_OBJECT, kind=FACTS_KIND, limit=1000):  # newest first
        if record.run_id and record.run_id not in verdicts:
            verdicts[record.run_id] = str(record.payload.get("worst") or "pass")
    return verdicts


def retained(checkpoints: list[Checkpoint], verdicts: dict[str, str], keep: int) -> list[Checkpoint]:
    """The newest `keep` good ones, plus the newest one not checked yet when it is newer than those."""
    if keep <= 0:  # checkpoints are off
        return []
    good = [c for c in checkpoints if verdicts.get(c.run_id) not in (None, "fail")][:keep]
    unchecked = next((c for c in checkpoints if c.run_id not in verdicts), None)
    if unchecked is not None and (not good or unchecked.taken_at > good[0].taken_at):
        good.append(unchecked)
    return good


def prune(workspace: Any, keep: int | None = None) -> list[Checkpoint]:
    """Delete the checkpoints retention does not keep; returns the kept ones, newest first."""
    from tui.core.history import HistoryStore

    keep = keep_setting() if keep is None else keep
    checkpoints = list_checkpoints(workspace)
    with HistoryStore(workspace.history_path) as store:
        verdicts = check_verdicts(store)
    kept = retained(checkpoints, verdicts, keep)
    for checkpoint in checkpoints:
        if checkpoint not in kept:
            delete(checkpoint)
    for leftover in folder(workspace).glob("*.part"):
        leftover.unlink(missing_ok=True)
    return kept


def wanted(command: str, partial: bool) -> bool:
    """A checkpoint after this run? Partial runs (a selection: the cockpit's quick rebuilds) only with
    PIPELINE_TUI_CHECKPOINTS=all, since a checkpoint copies the whole file (seconds at scale)."""
    when = os.environ.get(WHEN_ENV, "full").strip().lower()
    return command in WAREHOUSE_COMMANDS and keep_setting() > 0 and when != "off" and (when == "all" or not partial)


def after_run(workspace: Any, command: str, finished: Any, partial: bool = False) -> Any:
    """Checkpoint the warehouse after a successful build, run, seed or snapshot of the whole project
    (`wanted`); never fails the run (a checkpoint that cannot be taken is logged). Returns `finished`."""
    if getattr(finished, "status", None) != "success" or not wanted(command, partial):
        return finished
    if not Path(workspace.history_path).is_file():
        return finished  # a run not recorded cannot be rolled back to
    try:
        take(workspace, finished.run_id)
        prune(workspace)
    except Exception as error:  # noqa: BLE001 - the build succeeded; the checkpoint is a safety net
        _log(workspace, f"checkpoint of run {finished.run_id} not taken: {str(error).splitlines()[0]}")
    return finished


def _log(workspace: Any, line: str) -> None:
    try:
        log_dir = Path(workspace.log_path)
        log_dir.mkdir(parents=True, exist_ok=True)
        with open(log_dir / "checkpoints.log", "a") as log:
            log.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {line}\n")
    except OSError:
        pass
