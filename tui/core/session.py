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
- Events (`tui.core.events`) go to `on_event` as they happen, from dbt's threads; the session
  also records them in the run history (`HistoryStore`) unless `history=None` is passed.
- Rows per model are counted on a connection of dbt's own adapter (same process, same DuckDB
  instance, so no second lock); views are not counted unless `count_views=True` (counting a view
  runs its whole query). Cost is an estimate: execute seconds x rate (`tui.core.costs`).
- `build` and `run` warn (`Warned`, code FeedContract) when a raw feed's columns differ from the
  sources' declared columns (`tui.core.feed_contract`): a renamed or missing column is named.
- After each invocation the adapter's connections are closed, so the warehouse file is free
  while the session is idle (other processes can read it).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from tui.core import errors
from tui.core.dbt_events import EventTranslator
from tui.core.events import RunFinished
from tui.core.fingerprint import ProjectFingerprint
from tui.core.history import HistoryRecorder, HistoryStore
from tui.core.workspace import Workspace, git_revision

COMMANDS = {"build": ["build"], "run": ["run"], "test": ["test"], "seed": ["seed"], "snapshot": ["snapshot"],
            "source freshness": ["source", "freshness"], "freshness": ["source", "freshness"],
            "show": ["show"], "compile": ["compile"], "ls": ["ls"], "list": ["ls"]}
FULL_REFRESH_COMMANDS = {"build", "run", "seed"}
CANCEL_POLL_S = 0.05  # one cancel call races with the next query: repeat it until dbt returns
_AUTO = object()


class SessionError(Exception):
    """The session cannot run (one line for the user)."""


class SessionBusy(SessionError):
    """Another invocation is running in this session."""


def prepare_dbt_environment(project_dir: Path) -> None:
    """Telemetry and version check off unless the user turned them on; resource tracker started.

    The resource tracker guard: dbt's multiprocessing lock starts the tracker with the current
    `sys.stderr` file descriptor, which fails when a UI has replaced `sys.stderr`.
    """
    user_flags = _project_flags(project_dir)
    if "DO_NOT_TRACK" not in os.environ and "send_anonymous_usage_stats" not in user_flags:
        os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")
    if "version_check" not in user_flags:
        os.environ.setdefault("DBT_VERSION_CHECK", "false")
    import multiprocessing.resource_tracker

    multiprocessing.resource_tracker.ensure_running()


def _project_flags(project_dir: Path) -> dict:
    try:
        import yaml

        data = yaml.safe_load((Path(project_dir) / "dbt_project.yml").read_text()) or {}
        return data.get("flags") or {}
    except Exception:  # unreadable YAML is dbt's to report, not ours
        return {}


def _skip_queued_nodes_once_cancelled() -> None:
    """No node starts after a cancel request: dbt hands every ready node to its thread pool at once,
    and nodes still queued there would start after the request (measured: a model and several tests
    up to 130 ms later). Once `_raise_next_tick` holds the cancel's KeyboardInterrupt, a node that has
    not started yet is skipped instead. Patched once per process; runs not cancelled are unaffected."""
    from dbt.task.runnable import GraphRunnableTask

    original = GraphRunnableTask.call_runner
    if getattr(original, "pipeline_tui_guard", False):
        return

    def call_runner(task, runner):
        if isinstance(task._raise_next_tick, KeyboardInterrupt):
            runner.do_skip()
        return original(task, runner)

    call_runner.pipeline_tui_guard = True
    GraphRunnableTask.call_runner = call_runner


class DbtSession:
    def __init__(self, workspace: Workspace, *, history: HistoryStore | None | object = _AUTO,
                 cost_per_hour: float | None = None, count_views: bool = False, write_artifacts: bool = False):
        self.workspace = workspace.ensure_dirs()
        self.write_artifacts = write_artifacts
        self._invoke_thread: int | None = None
        self.cost_per_hour = cost_per_hour
        self.count_views = count_views
        self.history = HistoryStore(workspace.history_path) if history is _AUTO else history
        self.manifest: Any = None
        self.parse_count = 0  # parses done by this session (tests, bench)
        self.last_result: Any = None  # dbt's dbtRunnerResult of the last invocation (e.g. `show` rows)
        self.git_rev: str | None = None
        self._vars_key: str | None = None
        self._runner_cls: Any = None
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._done = threading.Event()  # replaced per invocation: set when that invocation returns
        self._cancel = threading.Event()
        self._cancel_thread: threading.Thread | None = None
        self._counter = ThreadPoolExecutor(1, thread_name_prefix="pipeline-tui-rows")
        self._fingerprint = ProjectFingerprint(
            workspace.project_dir, (workspace.profiles_dir / "profiles.yml",),
            skip=(workspace.root, workspace.target_path, workspace.log_path))

    # --- lifecycle --------------------------------------------------------------------------
    def warm_up(self, vars: dict | None = None) -> None:
        """Import dbt and parse the project now (raises SessionError with one line on failure)."""
        with self._lock:
            self._ensure_manifest(vars)

    def close(self) -> None:
        self.cancel()
        with self._lock:
            self._release_connections()
            self._counter.shutdown(wait=False)
            if self.history is not None:
                self.history.close()

    @property
    def busy(self) -> bool:
        return self._running.is_set()

    def cancel(self) -> bool:
        """Stop the running invocation (thread-safe). False when nothing was running."""
        if not self._running.is_set():
            return False
        if not self._cancel.is_set():
            self._cancel.set()
            self._cancel_thread = threading.Thread(target=self._cancel_loop, args=(self._done,),
                                                   name="pipeline-tui-cancel", daemon=True)
            self._cancel_thread.start()
        return True

    def _stop_cancel_loop(self) -> None:
        self._done.set()
        if self._cancel_thread is not None:
            self._cancel_thread.join(5)

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
            self._done, self._cancel = threading.Event(), threading.Event()
            self._running.set()
            return self._invoke(command, select, exclude, full_refresh, vars, state, extra_args, on_event)
        finally:
            self._done.set()
            self._running.clear()
            self._lock.release()

    def _invoke(self, command, select, exclude, full_refresh, vars, state, extra_args, on_event) -> RunFinished:
        emit = self._emitter(on_event)
        translator = EventTranslator(
            command, select, self.workspace.target, full_refresh, emit, count_rows=self._count_rows,
            rate_per_hour=self.cost_per_hour, cancelling=self._cancel.is_set, count_views=self.count_views)
        try:
            self._ensure_manifest(vars)
        except SessionError as error:
            return self._finish(translator, emit, None, str(error))
        args = [*COMMANDS[command], *self._common_args(), *self._selection_args(command, select, exclude,
                                                                                   full_refresh, vars, state)]
        if not self.write_artifacts and command not in ("show", "ls", "list", "compile"):
            args.append("--no-write-json")  # run_results/manifest rewrite: ~0.3 s per run; history has the results
        runner = self._runner_cls(manifest=self.manifest, callbacks=[translator])
        self._invoke_thread = threading.get_ident()
        try:
            result = runner.invoke([*args, *extra_args])
        finally:
            self._invoke_thread = None
            self._stop_cancel_loop()  # dbt returned: its cleanup and ours must not be interrupted
            self._release_connections()
        self.last_result = result
        if self._cancel.is_set():
            self._restore_interrupted_swaps(translator, emit)
        self._warn_feed_contract(command, translator, emit)
        return self._finish(translator, emit, result, None)

    def _restore_interrupted_swaps(self, translator: EventTranslator, emit) -> None:
        """A cancel can leave a table renamed to `X__dbt_backup` without its new version: give it its
        previous table back (`tui.core.recovery`), so the model in flight keeps what it had."""
        from tui.core.events import Warned
        from tui.core.recovery import restore_interrupted_swaps

        schemas = {(n.database, n.schema) for n in self.manifest.nodes.values()
                   if n.resource_type in ("model", "seed", "snapshot")}
        try:
            restored = restore_interrupted_swaps(self._adapters()[0], schemas)
        except Exception:  # never fail the run's end for it; the next build rebuilds the table anyway
            restored = []
        finally:
            self._release_connections()
        for name in restored:
            emit(Warned(translator.run_id, "TableRestored", f"{name}: previous table kept after the cancel", None))

    def _warn_feed_contract(self, command: str, translator: EventTranslator, emit) -> None:
        """A raw feed column renamed, added, missing or moved: a warning naming file and column, so a
        changed feed never becomes a silent column of nulls (`tui.core.feed_contract`)."""
        if command not in ("build", "run") or translator.run_id is None or self._cancel.is_set():
            return
        from tui.core.events import Warned
        from tui.core.feed_contract import check_feeds, summary

        try:
            lines = summary(check_feeds(self.workspace.manifest_path, self.workspace.raw_dir))
        except Exception:  # a check that cannot read a feed must never fail the run
            return
        for line in lines:
            emit(Warned(translator.run_id, "FeedContract", line, None))

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

    def _emitter(self, on_event: Callable[[Any], None] | None) -> Callable[[Any], None]:
        recorder = HistoryRecorder(self.history, self.git_rev) if self.history is not None else None
        listeners = [fn for fn in (recorder, on_event) if fn is not None]

        def emit(event: Any) -> None:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:  # a broken listener must not break dbt's run
                    pass

        return emit

    # --- parsing ----------------------------------------------------------------------------
    def _import_dbt(self) -> None:
        if self._runner_cls is None:
            prepare_dbt_environment(self.workspace.project_dir)
            from dbt.cli.main import dbtRunner

            self._runner_cls = dbtRunner
            _skip_queued_nodes_once_cancelled()
        os.environ.update(self.workspace.dbt_env())

    def _ensure_manifest(self, vars: dict | None) -> None:
        self._import_dbt()
        vars_key = json.dumps(vars or {}, sort_keys=True)
        if self.manifest is not None and vars_key == self._vars_key and not self._fingerprint.changed():
            return
        self._fingerprint.snapshot()
        translator = EventTranslator("parse", None, self.workspace.target, False, lambda event: None)
        args = ["parse", *self._common_args(), *(["--vars", vars_key] if vars else [])]
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
    @staticmethod
    def _adapters() -> list[Any]:
        from dbt.adapters.factory import FACTORY

        return list(FACTORY.adapters.values())

    def _count_rows(self, relation: str) -> int | None:
        """Count on our own connection of dbt's adapter, from a dedicated thread (never the node's)."""
        def count() -> int | None:
            adapter = self._adapters()[0]
            with adapter.connection_named("pipeline_tui_rowcount"):
                _, table = adapter.execute(f"select count(*) from {relation}", fetch=True)
            return int(table.rows[0][0])

        try:
            return self._counter.submit(count).result(timeout=60)
        except Exception:  # the count is a nicety: never fail a node for it
            return None

    def _cancel_loop(self, done: threading.Event) -> None:
        """Until that invocation returns: no new node is scheduled, and every open query (new ones
        included) is interrupted every 50 ms (a single cancel races with the next query)."""
        while not done.is_set():
            self._stop_scheduling()
            for adapter in self._adapters():
                try:
                    adapter.cancel_open_connections()
                except Exception:
                    pass
            done.wait(CANCEL_POLL_S)

    def _stop_scheduling(self) -> None:
        """Make dbt's scheduler stop at its next step, as on Ctrl+C.

        dbt's task checks `_raise_next_tick` before it hands the next node to its thread pool; an
        interrupt there takes dbt's own KeyboardInterrupt path (pool terminated, queries cancelled,
        nodes not started are left out). The task is found on the invoking thread's stack.
        """
        thread = self._invoke_thread
        frame = sys._current_frames().get(thread) if thread else None
        from dbt.task.runnable import GraphRunnableTask

        while frame is not None:
            task = frame.f_locals.get("self")
            if isinstance(task, GraphRunnableTask):
                if task._raise_next_tick is None:
                    task._raise_next_tick = KeyboardInterrupt("cancelled by the user")
                return
            frame = frame.f_back

    def _release_connections(self) -> None:
        """Close dbt's connections so the warehouse file is not held while idle."""
        if self._runner_cls is None:
            return
        for adapter in self._adapters():
            try:
                adapter.cleanup_connections()
                manager = type(adapter.connections)
                environment = getattr(manager, "_ENV", None)  # dbt-duckdb keeps its database open
                if environment is not None:
                    environment.close()
                if hasattr(manager, "close_all_connections"):
                    manager.close_all_connections()
            except Exception:
                pass
