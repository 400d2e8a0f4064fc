"""The warm dbt session: one project, dbt imported once, the parsed manifest kept between runs.

Provides `DbtSession` and its errors `SessionBusy` / `SessionError`.

    session = DbtSession(Workspace.resolve())
    session.warm_up()                        # optional: import dbt and parse now (~3 s cold)
    finished = session.invoke("build", select="stg_claims+", on_event=print)   # -> RunFinished

- dbt is imported lazily (first `warm_up`/`invoke`), with anonymous usage tracking and the version
  check off unless the user's environment or `dbt_project.yml` flags turn them on.
- The manifest is parsed once and reused (`dbtRunner(manifest=...)`). Before every invocation a
  content fingerprint of the project files (and the `--vars`) is checked; any change re-parses
  (dbt's partial parsing keeps that quick), so an edited model is never built from stale SQL.
  Each parse writes `<workspace target>/manifest.json` for `tui.core.project`.
- One invocation at a time: a second `invoke` while one runs raises `SessionBusy` at once
  (or waits, with `wait=True`). `cancel()` from any thread stops the running invocation.
- Events (`tui.core.run_events`) go to `on_event` as they happen, in order, from the session's event
  thread (`tui.core.dbt_host.delivery`; dbt's threads only queue them); the session also records them
  in the run history (`HistoryStore`) unless `history=None` is passed, before `on_event` sees them.
  Every event is delivered before `invoke` returns.
- Rows per model are counted on a connection of dbt's own adapter (same process, same DuckDB
  instance, so no second lock); views are not counted unless `count_views=True` (counting a view
  runs its whole query). Cost is an estimate: execute seconds x rate (`tui.core.costs`).
- `build` and `run` warn (`Warned`, code FeedContract) when a raw feed's columns differ from the
  sources' declared columns (`tui.core.feed_contract`): a renamed or missing column is named.
- dbt runs in the project folder, as `cd project && dbt build` does: relative paths in the profile
  (a DuckDB `path:`), in `external_location`s and seeds resolve as the project's team expects.
  The working directory is the project's only while dbt runs (`_in_project_dir`), and is given
  back after: a caller's own relative paths keep their meaning.
- After each invocation the adapter's connections are closed, so the warehouse file is free
  while the session is idle (other processes can read it).
- What it changes in dbt for a long-lived process (cancel that stops at once, the warehouse lock,
  the per-invocation work a warm rebuild skips) is one registry of guarded patches,
  `tui.core.dbt_host.patches`; a correctness patch that does not fit the installed dbt fails the
  warm-up with one `SessionError` line. The state they read is the session's `DbtHost` (`host`).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from tui.core import checkpoints, errors
from tui.core.dbt_host.delivery import EventSink
from tui.core.dbt_host.environment import prepare_dbt_environment
from tui.core.dbt_host.feed_warnings import FeedContractWarnings
from tui.core.dbt_host.fingerprint import ProjectFingerprint
from tui.core.dbt_host.host import DbtHost
from tui.core.dbt_host.patches import PatchMismatch
from tui.core.dbt_host.translator import EventTranslator
from tui.core.history import HistoryRecorder, HistoryStore
from tui.core.run_events import RunFinished, Warned
from tui.core.workspace import Workspace, git_revision

COMMANDS = {"build": ["build"], "run": ["run"], "test": ["test"], "seed": ["seed"], "snapshot": ["snapshot"],
            "source freshness": ["source", "freshness"], "freshness": ["source", "freshness"],
            "show": ["show"], "compile": ["compile"], "ls": ["ls"], "list": ["ls"]}
FULL_REFRESH_COMMANDS = {"build", "run", "seed"}
GRAPH_REUSE_COMMANDS = {"build", "run", "test", "seed", "snapshot"}  # never add nodes to the manifest
CANCEL_POLL_S = 0.02  # interrupts repeat until dbt returns: a query can start between two of them
_AUTO = object()


@contextlib.contextmanager
def _in_project_dir(project_dir: Path):
    """The one place dbt's working directory is set: the project folder, while dbt runs (dbt-duckdb
    opens a relative `path:` against it; so do `read_csv('data/x.csv')` and friends)."""
    try:
        before: str | None = os.getcwd()
    except OSError:  # the caller's folder was deleted: nothing to go back to
        before = None
    try:
        os.chdir(project_dir)
    except OSError:
        raise SessionError(f"the project folder {project_dir} cannot be opened (moved or deleted?): "
                           "check --project-dir") from None
    try:
        yield
    finally:
        if before is not None:
            with contextlib.suppress(OSError):
                os.chdir(before)


class SessionError(Exception):
    """The session cannot run (one line for the user)."""


class SessionBusy(SessionError):
    """Another invocation is running in this session."""


class DbtSession:
    def __init__(self, workspace: Workspace, *, history: HistoryStore | None | object = _AUTO,
                 cost_per_hour: float | None = None, count_views: bool = False, write_artifacts: bool = False):
        self.workspace = workspace.ensure_dirs()
        self.write_artifacts = write_artifacts
        self.cost_per_hour = cost_per_hour
        self.count_views = count_views
        self.history = HistoryStore(workspace.history_path) if history is _AUTO else history
        self.manifest: Any = None
        self.parse_count = 0  # parses done by this session (tests, bench)
        self.last_result: Any = None  # dbt's dbtRunnerResult of the last invocation (e.g. `show` rows)
        self.git_rev: str | None = None
        self._vars_key: str | None = None
        self._runner_cls: Any = None
        self.host = DbtHost()  # what the patches read (cancel, graphs, chatter) and the adapter calls
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._cancel = threading.Event()  # replaced per invocation: that invocation was asked to stop
        self._cancel_lock = threading.Lock()  # a cancel and dbt's start or return, one at a time
        self._invoke_thread: int | None = None  # set while dbt runs
        self._cancel_thread: threading.Thread | None = None
        self._done = threading.Event()  # replaced per invocation: set when dbt returned
        self._feeds = FeedContractWarnings(workspace.manifest_path, workspace.raw_dir)
        self._fingerprint = ProjectFingerprint(
            workspace.project_dir, (workspace.profiles_dir / "profiles.yml",),
            skip=(workspace.root, workspace.target_path, workspace.log_path))

    # --- lifecycle --------------------------------------------------------------------------
    def warm_up(self, vars: dict | None = None) -> None:
        """Import dbt and parse the project now (raises SessionError with one line on failure)."""
        with self._lock, _in_project_dir(self.workspace.project_dir):
            self._ensure_manifest(vars)

    def close(self) -> None:
        self.cancel()
        with self._lock:
            self._release_connections()
            if self.history is not None:
                self.history.close()

    @property
    def busy(self) -> bool:
        return self._running.is_set()

    def cancel(self) -> bool:
        """Stop the running invocation (thread-safe). False when nothing was running.

        From this call on no node starts and no query starts; the scheduler and the running queries
        are interrupted at once, and again every `CANCEL_POLL_S` until dbt returns."""
        if not self._running.is_set():
            return False
        with self._cancel_lock:
            if not self._cancel.is_set():
                self._cancel.set()
                if self._invoke_thread is not None:
                    self._start_cancelling()
        return True

    def _start_cancelling(self) -> None:
        self.host.cancel.set()
        self.host.stop_scheduling()
        self._cancel_thread = threading.Thread(target=self._cancel_loop, args=(self._done,),
                                               name="pipeline-tui-cancel", daemon=True)
        self._cancel_thread.start()

    def _cancel_loop(self, done: threading.Event) -> None:
        """Until dbt returns: interrupt every open query (a single interrupt races with the next one)."""
        while not done.is_set():
            self.host.stop_scheduling()
            self.host.cancel_queries()
            done.wait(CANCEL_POLL_S)

    # --- invocations ------------------------------------------------------------------------
    def invoke(self, command: str, select: str | None = None, *, exclude: str | None = None,
               full_refresh: bool = False, vars: dict | None = None, state: str | None = None,
               extra_args: tuple[str, ...] = (), on_event: Callable[[Any], None] | None = None,
               wait: bool = False) -> RunFinished:
        """Run one dbt command; events go to `on_event` while it runs. Returns its RunFinished."""
        if command not in COMMANDS:
            raise SessionError(f"unknown command {command!r}: use one of {', '.join(sorted(COMMANDS))}")
        if not self._lock.acquire(blocking=wait):
            raise SessionBusy("dbt is already running in this session: wait for it to finish or cancel it")
        try:
            self._cancel = threading.Event()
            self._running.set()
            with _in_project_dir(self.workspace.project_dir):
                return self._invoke(command, select, exclude, full_refresh, vars, state, extra_args, on_event)
        finally:
            self._running.clear()
            self._lock.release()

    def _invoke(self, command, select, exclude, full_refresh, vars, state, extra_args, on_event) -> RunFinished:
        recorder = HistoryRecorder(self.history, self.git_rev) if self.history is not None else None
        sink = EventSink([fn for fn in (recorder, on_event) if fn is not None])
        try:
            return self._invoke_with(sink, command, select, exclude, full_refresh, vars, state, extra_args)
        finally:
            sink.close()  # after every event queued so far was delivered, RunFinished last

    def _invoke_with(self, sink: EventSink, command, select, exclude, full_refresh, vars, state,
                     extra_args) -> RunFinished:
        emit = sink.put
        translator = EventTranslator(
            command, select, self.workspace.target, full_refresh, emit, count_rows=self._count_rows,
            rate_per_hour=self.cost_per_hour, cancelling=self._cancel.is_set, count_views=self.count_views,
            defer_counts=self.host.private_connections)  # a count dbt's own end cannot close
        try:
            self._ensure_manifest(vars)
        except SessionError as error:
            return self._finish(translator, emit, None, str(error))
        args = [*COMMANDS[command], *self._common_args(), *self._selection_args(command, select, exclude,
                                                                                   full_refresh, vars, state)]
        if not self.write_artifacts and command not in ("show", "ls", "list", "compile"):
            args.append("--no-write-json")  # run_results/manifest rewrite: ~0.3 s per run; history has the results
        self.host.graphs.allow(self.manifest if command in GRAPH_REUSE_COMMANDS else None)
        if command not in ("ls", "list"):  # commands that query the warehouse: open it while dbt sets up
            self.host.open_warehouse_in_advance()  # released below with dbt's connections
        result = self._run_dbt(self._runner_cls(manifest=self.manifest, callbacks=[translator]),
                               [*args, *extra_args])
        self.last_result = result
        sink.drain()  # row counts queued by dbt's threads run on dbt's database: before it is released
        if self._cancel.is_set():
            self._restore_interrupted_swaps(translator, emit)  # while dbt's database is still open
        self._release_connections()
        if command in ("build", "run") and translator.run_id is not None and not self._cancel.is_set():
            for line in self._feeds.lines():
                emit(Warned(translator.run_id, "FeedContract", line, None))
        return self._finish(translator, emit, result, None)

    def _run_dbt(self, runner: Any, args: list[str]) -> Any:
        """dbt's invoke, cancellable from another thread; once it returns nothing interrupts any more
        (its cleanup, the recovery and the connection release must run whole)."""
        with self._cancel_lock:
            self._done = threading.Event()
            self._invoke_thread = threading.get_ident()
            self.host.cancel.clear()
            if self._cancel.is_set():  # asked before dbt started: it skips every node
                self._start_cancelling()
        try:
            with self.host.invocation():
                return runner.invoke(args)
        finally:
            with self._cancel_lock:
                self._invoke_thread = None
                self._done.set()
                self.host.cancel.clear()
            if self._cancel_thread is not None:
                self._cancel_thread.join(5)
                self._cancel_thread = None

    def _restore_interrupted_swaps(self, translator: EventTranslator, emit) -> None:
        """A cancel can leave a table renamed to `X__dbt_backup` without its new version: give it its
        previous table back (`tui.core.dbt_host.recovery`), so the model in flight keeps what it had."""
        from tui.core.dbt_host.recovery import restore_interrupted_swaps

        schemas = {(n.database, n.schema) for n in self.manifest.nodes.values()
                   if n.resource_type in ("model", "seed", "snapshot")}
        try:
            restored = restore_interrupted_swaps(self.host.adapters()[0], schemas)
        except Exception:  # never fail the run's end for it; the next build rebuilds the table anyway
            restored = []
        for name in restored:
            emit(Warned(translator.run_id, "TableRestored", f"{name}: previous table kept after the cancel", None))

    def _finish(self, translator: EventTranslator, emit, result: Any, error: str | None) -> RunFinished:
        translator.ensure_started(str(uuid.uuid4()))
        failed = len(translator.failed)
        if self._cancel.is_set():
            status, error = "cancelled", "cancelled by the user"
        elif error is None and result is not None and result.success and not translator.nothing_selected:
            status = "success"
        else:
            status = "error"
            error = error or self._error_line(translator, result)
        finished = RunFinished(translator.run_id, status, time.time(), time.time() - translator.started_at,
                               error, failed)
        # the state `rollback` restores, taken before anyone hears that the run ended
        checkpoints.after_run(self.workspace, translator.command, finished, partial=bool(translator.selector))
        emit(finished)
        return finished

    def _error_line(self, translator: EventTranslator, result: Any) -> str:
        if result is not None and result.exception is not None:
            return errors.translate(result.exception, self.workspace)
        if translator.nothing_selected:
            return errors.nothing_selected(translator.selector)
        if translator.failed:
            names = ", ".join(translator.failed[:3]) + (" …" if len(translator.failed) > 3 else "")
            first = f" - {errors.translate(translator.first_error, self.workspace)}" if translator.first_error else ""
            return errors.one_line(f"{len(translator.failed)} failed: {names}{first}")
        return errors.translate(translator.first_error or "dbt reported a failure", self.workspace)

    # --- parsing ----------------------------------------------------------------------------
    def _import_dbt(self) -> None:
        if self._runner_cls is None:
            prepare_dbt_environment(self.workspace.project_dir)
            from dbt.cli.main import dbtRunner

            self._runner_cls = dbtRunner
        try:
            self.host.install()  # again after a test uninstalled the patches: cheap once installed
        except PatchMismatch as error:
            raise SessionError(str(error)) from None
        os.environ.update(self.workspace.dbt_env())

    def _ensure_manifest(self, vars: dict | None) -> None:
        self._import_dbt()
        vars_key = json.dumps(vars or {}, sort_keys=True)
        if self.manifest is not None and vars_key == self._vars_key and not self._fingerprint.changed():
            return
        self._fingerprint.snapshot()
        translator = EventTranslator("parse", None, self.workspace.target, False, lambda event: None)
        args = ["parse", *self._common_args(), *(["--vars", vars_key] if vars else [])]
        with self.host.invocation():
            result = self._runner_cls(callbacks=[translator]).invoke(args)
        self._release_connections()
        if not result.success or result.result is None:
            self.manifest = None
            self._fingerprint.reset()
            raise SessionError(errors.translate(result.exception or translator.first_error or "parse failed",
                                                self.workspace))
        self.manifest, self._vars_key = result.result, vars_key
        self.parse_count += 1
        self.git_rev = git_revision(self.workspace.project_dir)

    def _common_args(self) -> list[str]:
        ws = self.workspace
        args = ["--project-dir", str(ws.project_dir), "--profiles-dir", str(ws.profiles_dir),
                "--target-path", str(ws.target_path), "--log-path", str(ws.log_path),
                "--log-level", "none", "--log-level-file", "info"]
        return args + (["--target", ws.target] if ws.target else [])

    @staticmethod
    def _selection_args(command, select, exclude, full_refresh, vars, state) -> list[str]:
        args = []
        if select:
            args += ["--select", *select.split()]
        if exclude:
            args += ["--exclude", *exclude.split()]
        if full_refresh and command in FULL_REFRESH_COMMANDS:
            args.append("--full-refresh")
        if vars:
            args += ["--vars", json.dumps(vars, sort_keys=True)]
        if state:
            args += ["--state", str(state)]
        return args

    # --- adapter plumbing -------------------------------------------------------------------
    def _count_rows(self, relation: str) -> int | None:
        """Count on our own connection of dbt's adapter; runs on the event thread, never a node's."""
        try:
            return self.host.count_rows(relation)
        except Exception:  # the count is a nicety: never fail a node for it
            return None

    def _release_connections(self) -> None:
        """Close dbt's connections so the warehouse file is not held while idle."""
        if self._runner_cls is not None:
            self.host.release_connections()
