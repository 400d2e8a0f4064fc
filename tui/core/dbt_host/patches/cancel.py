"""Correctness patches: a cancel that stops dbt at once. Each reads the cancel state of the host bound
to the running invocation (`ctx.current()`); with no host bound (anyone else running dbt) they pass
through to dbt's own code.

- `cancel.track_task`: the task running `execute_nodes` is kept on the host, so a cancel can set
  dbt's own `_raise_next_tick` (its Ctrl+C path) without walking other threads' frames;
- `cancel.skip_queued_nodes`: dbt hands every ready node to its pool at once; nodes still queued
  there would start after the request (measured: a model and tests up to 130 ms later);
- `cancel.wake_scheduler`: dbt's scheduler blocks in `GraphQueue.get()` / `join()` until a running
  node ends and only then sees a cancel; waiting in short slices lets it take dbt's KeyboardInterrupt
  path at once (pool terminated, open queries cancelled);
- `cancel.refuse_queries`: a query that starts between two interrupts would run to its end; once
  cancelled none starts (work not committed rolls back when dbt closes the connection).
"""

from __future__ import annotations

import queue

from tui.core.dbt_host.patches.registry import Context, Patch, Site

WAKE_S = 0.02  # how often dbt's waiting scheduler looks at a cancel request
CANCEL_MESSAGE = "cancelled by the user"
CORE, ADAPTERS = ("dbt-core", ">=1.11,<1.13"), ("dbt-adapters", ">=1.24,<1.25")
RUNNABLE = "dbt.task.runnable:GraphRunnableTask"


def _cancelling(ctx: Context) -> bool:
    host = ctx.current()
    return host is not None and host.cancel.is_set()


def _track_task(ctx: Context) -> tuple:
    original = ctx.original()

    def execute_nodes(self, *args, **kwargs):
        host = ctx.current()
        if host is None:
            return original(self, *args, **kwargs)
        host.running_task(self)
        try:
            return original(self, *args, **kwargs)
        finally:
            host.running_task(None)

    return (execute_nodes, None, None)


def _skip_queued_nodes(ctx: Context) -> tuple:
    original = ctx.original()

    def call_runner(task, runner, *args, **kwargs):
        if _cancelling(ctx) or isinstance(task._raise_next_tick, KeyboardInterrupt):
            runner.do_skip()
        return original(task, runner, *args, **kwargs)

    return (call_runner,)


def _wake_scheduler(ctx: Context) -> tuple:
    original_get = ctx.original(0)

    def get(self, block: bool = True, timeout: float | None = None):
        if not block or timeout is not None or ctx.current() is None:
            return original_get(self, block, timeout)
        while True:
            try:
                return original_get(self, True, WAKE_S)
            except queue.Empty:
                if _cancelling(ctx):
                    raise KeyboardInterrupt(CANCEL_MESSAGE) from None

    def join(self) -> None:
        inner = self.inner
        with inner.all_tasks_done:
            while inner.unfinished_tasks:
                inner.all_tasks_done.wait(WAKE_S)
                if _cancelling(ctx) and inner.unfinished_tasks:
                    raise KeyboardInterrupt(CANCEL_MESSAGE)

    return get, join


def _refuse_queries(ctx: Context) -> tuple:
    from dbt_common.exceptions import DbtRuntimeError

    original = ctx.original()

    def add_query(self, sql, *args, **kwargs):
        if _cancelling(ctx):
            raise DbtRuntimeError(CANCEL_MESSAGE)
        return original(self, sql, *args, **kwargs)

    return (add_query,)


PATCHES = (
    Patch("cancel.track_task", "wrap", "correctness", *CORE, (
        Site(RUNNABLE, "execute_nodes", signatures=("(self)",)),
        Site(RUNNABLE, "_raise_set_error", names=("_raise_next_tick",)),
        Site(RUNNABLE, "run_queue", names=("_raise_set_error",))),
        why="Cancel: a cancel sets dbt's own stop flag on the running task (its Ctrl+C path).",
        saving="correctness (cancel)", build=_track_task),
    Patch("cancel.skip_queued_nodes", "wrap", "correctness", *CORE, (
        Site(RUNNABLE, "call_runner", signatures=("(self, runner)",), names=("_raise_next_tick",)),),
        why="Cancel: no node queued in dbt's pool starts after a cancel.",
        saving="correctness (cancel)", build=_skip_queued_nodes),
    Patch("cancel.wake_scheduler", "replace", "correctness", *CORE, (
        Site("dbt.graph.queue:GraphQueue", "get", signatures=("(self, block=True, timeout=None)",)),
        Site("dbt.graph.queue:GraphQueue", "join", source_hashes=("505fad9be964c8f7",))),
        why="Cancel: dbt's scheduler, blocked on a running node, sees a cancel within 20 ms.",
        saving="correctness (cancel)", build=_wake_scheduler),
    Patch("cancel.refuse_queries", "wrap", "correctness", *ADAPTERS, (
        Site("dbt.adapters.sql.connections:SQLConnectionManager", "add_query", signatures=(
            "(self, sql, auto_begin=True, bindings=None, abridge_sql_log=False, retryable_exceptions=(), "
            "retry_limit=1)",
        )),),
        why="Cancel: no query starts once a cancel was asked (one that did would run to its end).",
        saving="correctness (cancel)", build=_refuse_queries),
)
