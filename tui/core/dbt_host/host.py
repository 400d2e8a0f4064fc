"""dbt plumbing for the warm session (`tui.core.dbt_host.session`): environment, in-process patches, adapters.

Provides:
- `prepare_dbt_environment(project_dir)`: telemetry and version check off unless the user turned them
  on; multiprocessing's resource tracker started (dbt starts it with `sys.stderr`'s descriptor, which
  fails when a UI has replaced `sys.stderr`).
- `install_patches()`: once per process, changes to how dbt runs in a long-lived process. None
  changes what dbt builds or writes; they only change when it stops and what it redoes:
  * cancel: once `CancelState` is set, a node that has not started yet is skipped, no new query
    starts (it fails with "cancelled by the user"; open transactions roll back), and dbt's scheduler,
    blocked waiting for a running node, wakes within `WAKE_S` and takes dbt's own Ctrl+C path;
  * the linked graph (`Compiler.compile`) is reused while the manifest object is the same one
    (`GRAPH_REUSE.manifest`, set by the session for warm invocations), saving ~15 ms per run;
  * dbt's file logger formats and scrubs every event, debug ones included, before Python's logger
    drops those below its level (~300 lines per warm rebuild, 20-60 ms); the filter now drops them
    first, so `dbt.log` gets exactly the same lines;
  * dbt-duckdb makes cursors from its shared connection under its lock (DuckDB 2.0 refuses two
    calls at once on one connection: a node and the row count starting together failed one), and
    its first connection waits for `OPENER`, which reopened the warehouse in advance.
- `CANCEL`: the process-wide `CancelState` (dbt runs one invocation per process at a time).
- `OPENER` (`WarehouseOpener`): the warehouse opened again in a thread as an invocation starts.
- `adapters()`, `cancel_queries()`, `stop_scheduling(thread_id)`, `release_connections()`,
  `count_rows(relation)`, `private_connections()`.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from pathlib import Path
from typing import Any

from tui.core.dbt_host.patches import warm as session_warm

WAKE_S = 0.02  # how often dbt's waiting scheduler looks at a cancel request
CANCEL_MESSAGE = "cancelled by the user"
_installed = False


class CancelState:
    """The cancel request of the running invocation, read by the patched dbt internals."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()


class GraphReuse:
    """Linked graphs of one manifest object, reused only while `allow(manifest)` is in force (commands
    that may add nodes to the manifest, such as `show --inline`, call `allow(None)`: dbt links anew)."""

    def __init__(self) -> None:
        self.manifest: Any = None
        self._enabled = False
        self._graphs: dict[tuple, Any] = {}

    def allow(self, manifest: Any) -> None:
        self._enabled = manifest is not None
        if manifest is not None and manifest is not self.manifest:
            self.manifest, self._graphs = manifest, {}

    def get(self, manifest: Any, key: tuple) -> Any:
        return self._graphs.get(key) if self._usable(manifest) else None

    def put(self, manifest: Any, key: tuple, graph: Any) -> None:
        if self._usable(manifest):
            self._graphs[key] = graph

    def _usable(self, manifest: Any) -> bool:
        return self._enabled and manifest is not None and manifest is self.manifest


CANCEL = CancelState()
GRAPH_REUSE = GraphReuse()


def prepare_dbt_environment(project_dir: Path) -> None:
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


def install_patches() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    _skip_nodes_once_cancelled()
    _wake_scheduler_on_cancel()
    _refuse_queries_once_cancelled()
    _reuse_linked_graph()
    _filter_file_log_by_level()
    _serialize_duckdb_cursor_creation()
    session_warm.install()


def _skip_nodes_once_cancelled() -> None:
    """dbt hands every ready node to its thread pool at once; nodes still queued there would start
    after the request (measured: a model and tests up to 130 ms later). They are skipped instead."""
    from dbt.task.runnable import GraphRunnableTask

    original = GraphRunnableTask.call_runner

    def call_runner(task, runner):
        if CANCEL.is_set() or isinstance(task._raise_next_tick, KeyboardInterrupt):
            runner.do_skip()
        return original(task, runner)

    GraphRunnableTask.call_runner = call_runner


def _wake_scheduler_on_cancel() -> None:
    """dbt's scheduler blocks in `GraphQueue.get()` / `join()` until a running node ends, and only
    then sees a cancel. Waiting in short slices lets it take dbt's KeyboardInterrupt path at once
    (pool terminated, open queries cancelled) while the running nodes are being interrupted."""
    from dbt.graph.queue import GraphQueue

    original_get = GraphQueue.get

    def get(self, block: bool = True, timeout: float | None = None):
        if not block or timeout is not None:
            return original_get(self, block, timeout)
        while True:
            try:
                return original_get(self, True, WAKE_S)
            except queue.Empty:
                if CANCEL.is_set():
                    raise KeyboardInterrupt(CANCEL_MESSAGE) from None

    def join(self) -> None:
        inner = self.inner
        with inner.all_tasks_done:
            while inner.unfinished_tasks:
                inner.all_tasks_done.wait(WAKE_S)
                if CANCEL.is_set() and inner.unfinished_tasks:
                    raise KeyboardInterrupt(CANCEL_MESSAGE)

    GraphQueue.get, GraphQueue.join = get, join


def _refuse_queries_once_cancelled() -> None:
    """A query that starts between two interrupts would run to its end: once cancelled, none starts.
    Work not committed yet rolls back when dbt closes the connection."""
    from dbt.adapters.sql.connections import SQLConnectionManager
    from dbt_common.exceptions import DbtRuntimeError

    original = SQLConnectionManager.add_query

    def add_query(self, sql, *args, **kwargs):
        if CANCEL.is_set():
            raise DbtRuntimeError(CANCEL_MESSAGE)
        return original(self, sql, *args, **kwargs)

    SQLConnectionManager.add_query = add_query


def _reuse_linked_graph() -> None:
    from dbt.compilation import Compiler, _generate_stats, print_compile_stats

    original = Compiler.compile

    def compile(self, manifest, write=True, add_test_edges=False):
        key = (bool(write), bool(add_test_edges), self.config.args.which == "list")
        graph = GRAPH_REUSE.get(manifest, key)
        if graph is None:
            graph = original(self, manifest, write=write, add_test_edges=add_test_edges)
            GRAPH_REUSE.put(manifest, key, graph)
        elif not key[2]:
            print_compile_stats(_generate_stats(manifest))  # the "Found N models, ..." line, as dbt logs it
        return graph

    Compiler.compile = compile


def _filter_file_log_by_level() -> None:
    import dbt.events.logging as dbt_logging
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.logger import _is_print_event, _log_level_map

    original = dbt_logging._get_logfile_config
    ranks = {EventLevel(level).value: rank for level, rank in _log_level_map.items()}

    def logfile_config(*args, **kwargs):
        config = original(*args, **kwargs)
        threshold, keep = _log_level_map[config.level], config.filter

        def level_filter(msg) -> bool:  # print events go out at error level (dbt's rule)
            wanted = _is_print_event(msg) or ranks.get(msg.info.level, threshold) >= threshold
            return wanted and keep(msg)

        config.filter = level_filter
        return config

    dbt_logging._get_logfile_config = logfile_config


def _serialize_duckdb_cursor_creation() -> None:
    """dbt-duckdb makes each connection's cursor from its one shared DuckDB connection outside its
    lock; DuckDB 2.0 refuses a second call on a connection that is busy ("Resource In Use Error:
    connection is busy with another call"), so two nodes (or a node and the row count) opening at
    the same moment fail one of them. The cursor is now made under the environment's lock."""
    try:
        from dbt.adapters.duckdb.environments.local import DuckDBConnectionWrapper, LocalEnvironment
    except ImportError:  # another adapter: nothing to do
        return

    def handle(self):
        with self.lock:
            if self.conn is None:
                self.conn = self.initialize_db(self.creds, self._plugins)
            self.handle_count += 1
            cursor = self.conn.cursor()
        cursor = self.initialize_cursor(self.creds, cursor, self._plugins, self._REGISTERED_DF)
        return DuckDBConnectionWrapper(cursor, self)

    LocalEnvironment.handle = handle

    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    original_open = DuckDBConnectionManager.open.__func__

    def open(cls, connection):
        OPENER.wait()  # the database opened in advance, or not: either way settled before dbt looks
        return original_open(cls, connection)

    DuckDBConnectionManager.open = classmethod(open)


# --- adapters ---------------------------------------------------------------------------------
def adapters() -> list[Any]:
    from dbt.adapters.factory import FACTORY

    return list(FACTORY.adapters.values())


def cancel_queries() -> None:
    for adapter in adapters():
        try:
            adapter.cancel_open_connections()
        except Exception:
            pass


def stop_scheduling(thread_id: int | None) -> None:
    """Make dbt's scheduler stop at its next step, as on Ctrl+C: dbt's task checks `_raise_next_tick`
    before it hands out the next node. The task is found on the invoking thread's stack."""
    frame = sys._current_frames().get(thread_id) if thread_id else None
    from dbt.task.runnable import GraphRunnableTask

    while frame is not None:
        task = frame.f_locals.get("self")
        if isinstance(task, GraphRunnableTask):
            if task._raise_next_tick is None:
                task._raise_next_tick = KeyboardInterrupt(CANCEL_MESSAGE)
            return
        frame = frame.f_back


def release_connections() -> None:
    """Close dbt's connections and dbt-duckdb's database so the warehouse file is not held while idle."""
    OPENER.wait()
    for adapter in adapters():
        try:
            adapter.cleanup_connections()
            manager = type(adapter.connections)
            environment = getattr(manager, "_ENV", None)  # dbt-duckdb keeps its database open
            if environment is not None:
                environment.close()
                OPENER.remember(manager, environment)
            if hasattr(manager, "close_all_connections"):
                manager.close_all_connections()
        except Exception:
            pass


class WarehouseOpener:
    """Opens the warehouse again, in a thread, as soon as an invocation starts (20-40 ms that DuckDB
    spends without the GIL, while dbt loads the profile and selects the nodes on the invoking thread).

    `release_connections` remembers dbt-duckdb's environment (its settings, the file closed);
    `start()` puts it back and opens its database; dbt's first connection waits for that (`wait()`),
    then goes on as usual: with other credentials (an edited profile) dbt closes it and makes its own.
    A file another process holds fails here silently and then in dbt, with dbt's own error."""

    def __init__(self) -> None:
        self._last: tuple[Any, Any] | None = None
        self._thread: threading.Thread | None = None
        self.opened = 0  # databases opened in advance (tests)

    def remember(self, manager: Any, environment: Any) -> None:
        self._last = (manager, environment) if hasattr(environment, "initialize_db") else None

    def start(self) -> None:
        last, self._last = self._last, None
        if last is None or self._thread is not None:
            return
        manager, environment = last
        with manager._LOCK:
            if manager._ENV is not None:
                return  # dbt made its own since
            manager._ENV = environment
        self._thread = threading.Thread(target=self._open, args=(environment,),
                                        name="pipeline-tui-open-warehouse", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        thread = self._thread  # every caller waits (dbt's threads may open connections at once)
        if thread is not None:
            thread.join()
            self._thread = None

    def _open(self, environment: Any) -> None:
        try:
            with environment.lock:
                if environment.conn is None:
                    environment.conn = environment.initialize_db(environment.creds, environment._plugins)
                    self.opened += 1
        except Exception:  # dbt opens it itself and reports the error in its words
            pass


OPENER = WarehouseOpener()


def private_connections() -> bool:
    """True when the adapter can give a connection dbt does not track (dbt-duckdb's environment):
    a row count on it may still run when dbt closes the connections it tracks at its end."""
    return any(_environment(adapter) is not None for adapter in adapters())


def count_rows(relation: str) -> int:
    """Rows of a relation, on a connection of dbt's own adapter (same DuckDB instance: no second lock):
    a private one when `private_connections()`, else a named one of dbt's."""
    adapter = adapters()[0]
    environment = _environment(adapter)
    if environment is not None:
        handle = environment.handle()
        try:
            return int(handle.cursor().execute(f"select count(*) from {relation}").fetchone()[0])
        finally:
            handle.close()
    with adapter.connection_named("pipeline_tui_rowcount"):
        _, table = adapter.execute(f"select count(*) from {relation}", fetch=True)
    return int(table.rows[0][0])


def _environment(adapter: Any) -> Any:
    environment = getattr(type(adapter.connections), "_ENV", None)
    return environment if callable(getattr(environment, "handle", None)) else None
