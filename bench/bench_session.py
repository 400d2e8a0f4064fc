"""The warm dbt session as the TUI drives it (the persistent worker process, `tui.core.dbt_host.worker`):
warm rebuild of one model, first rebuild after a cold start, and cancel latency mid-build.

- `rebuild_rows(workspace, model, runs, env)`: from the request to its RunFinished through a warm
  `WorkerClient` (`build -s <model>`), against `dbt build -s <model>` as a subprocess (plain dbt
  CLI, same project, profile and target path, so the CLI gets partial parsing too); and a cold
  start: a new worker spawned, dbt imported, project parsed, the same rebuild, against the same CLI
  figures.
- `cancel_rows(workspace, runs, env)`: a full build through the worker; once a few nodes have
  finished and the next has started, `cancel()`; time from that request to the RunFinished, and
  whether any node started after the request (dbt's own start time of each node).
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager

from bench.bench_common import Row, dbt_cli_args, dbt_env, log, measure_child, median, ratio_of

WARM_SPEEDUP_TARGET = 10.0
WARM_MEDIAN_TARGET_S = 0.4
CANCEL_TARGET_S = 0.25
CANCEL_AFTER_FINISHED = 3


@contextmanager
def _environment(env: dict):
    """The worker inherits our environment: use the bench's (memory limit, telemetry off) meanwhile."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _worker(workspace):
    from tui.core.dbt_host.worker import WorkerClient

    client = WorkerClient(workspace)
    client.start()
    client.wait_ready(timeout=600)
    return client


def _rebuild(client, model: str) -> float:
    began = time.perf_counter()
    finished = client.run("build", select=model)
    if finished.status != "success":
        raise RuntimeError(f"build -s {model} through the worker: {finished.status} {finished.error}")
    return time.perf_counter() - began


def _first_rebuild(client, model: str) -> None:
    """Not timed: the first run after the parse opens the warehouse; when no earlier step built the
    project (e.g. `--only rebuild`), a full build first (the model's tests read other marts)."""
    try:
        _rebuild(client, model)
    except RuntimeError:
        setup = client.run("build")
        if setup.status != "success":
            raise RuntimeError(f"setup build through the worker: {setup.status} {setup.error}") from None
        _rebuild(client, model)


def _cold_rebuild(workspace, model: str) -> float:
    from tui.core.dbt_host.worker import WorkerClient

    began = time.perf_counter()
    client = WorkerClient(workspace)
    try:
        client.start()
        client.wait_ready(timeout=600)
        _rebuild(client, model)
        return time.perf_counter() - began
    finally:
        client.close()


def _cli_rebuild(workspace, model: str, env: dict) -> float:
    child = measure_child(dbt_cli_args(workspace, "build", "-s", model), env=dbt_env(workspace, env))
    if child.returncode != 0:
        raise RuntimeError(f"dbt build -s {model}: {child.stdout[-1500:]}")
    return child.seconds


def rebuild_rows(workspace, model: str, runs: int, env: dict, label: str) -> list[Row]:
    with _environment(env):
        log(f"warm rebuild of {model}: {runs} runs through the worker")
        client = _worker(workspace)
        try:
            _first_rebuild(client, model)
            warm = [_rebuild(client, model) for _ in range(runs)]
        finally:
            client.close()
        log(f"warm median {median(warm):.2f} s; CLI x{runs}")
        cli = [_cli_rebuild(workspace, model, env) for _ in range(runs)]
        log(f"CLI median {median(cli):.2f} s; cold first rebuild x{runs}")
        cold = [_cold_rebuild(workspace, model) for _ in range(runs)]
    speedup = median(cli) / median(warm)
    cold_ratio = ratio_of(cold, cli)
    return [
        Row("warm_rebuild", f"rebuild `{model}` through the warm worker, request to result {label}", "s", warm, cli,
            f"`dbt build -s {model}` subprocess", f"≥ {WARM_SPEEDUP_TARGET:g}x faster, median ≤ {WARM_MEDIAN_TARGET_S} s",
            speedup, speedup >= WARM_SPEEDUP_TARGET and median(warm) <= WARM_MEDIAN_TARGET_S,
            "ratio = CLI / ours (speed-up)"),
        Row("cold_rebuild", f"first rebuild after a cold start (spawn worker, import dbt, parse, build `{model}`)",
            "s", cold, cli, f"`dbt build -s {model}` subprocess", "no slower than the CLI (≤ 1.0)", cold_ratio,
            cold_ratio is not None and cold_ratio <= 1.0, "ratio = ours / CLI"),
    ]


def _cancel_once(client) -> tuple[float, int, int]:
    """(seconds from cancel to RunFinished, nodes started after the request, nodes finished before it)."""
    from tui.core.run_events import NodeFinished, NodeStarted, RunFinished

    events, finished_at, requested = [], {}, {}
    ready = threading.Event()

    def on_event(event) -> None:
        events.append(event)
        done = sum(isinstance(e, NodeFinished) for e in events)
        if isinstance(event, NodeStarted) and done >= CANCEL_AFTER_FINISHED and not ready.is_set():
            ready.set()
        if isinstance(event, RunFinished):
            finished_at["t"] = time.time()

    runner = threading.Thread(target=lambda: client.run("build", on_event=on_event), daemon=True)
    runner.start()
    if not ready.wait(600):
        raise RuntimeError("the build ended before the cancel point")
    requested["t"] = time.time()
    client.cancel()
    runner.join(600)
    late = [e for e in events if isinstance(e, NodeStarted) and e.started_at > requested["t"]]
    status = next((e.status for e in events if isinstance(e, RunFinished)), None)
    if status != "cancelled":
        raise RuntimeError(f"cancelled build ended with status {status}")
    before = sum(isinstance(e, NodeFinished) and e.finished_at <= requested["t"] for e in events)
    return finished_at["t"] - requested["t"], len(late), before


def cancel_rows(workspace, runs: int, env: dict, label: str) -> list[Row]:
    with _environment(env):
        client = _worker(workspace)
        try:
            results = []
            for run in range(runs):
                results.append(_cancel_once(client))
                log(f"cancel {run + 1}/{runs}: {results[-1][0] * 1000:.0f} ms, {results[-1][1]} started late")
        finally:
            client.close()
    latency = [r[0] for r in results]
    late = sum(r[1] for r in results)
    ok = median(latency) <= CANCEL_TARGET_S and max(latency) <= CANCEL_TARGET_S and late == 0
    return [Row("cancel", f"cancel mid-build (`build` {label}, after {CANCEL_AFTER_FINISHED}+ nodes), "
                "request to the invocation returning", "ms", latency, [], "—",
                f"≤ {CANCEL_TARGET_S * 1000:.0f} ms, no node started after the request", None, ok,
                f"nodes started after the request: {late} in {runs} runs; max counts for pass")]
