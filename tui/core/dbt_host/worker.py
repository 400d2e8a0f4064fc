"""A warm dbt session in a persistent child process, and the client the TUI uses to drive it.

Why a process: dbt in a UI thread stalls the event loop (GIL), breaks on a replaced `sys.stderr`,
and DuckDB may write to file descriptor 1. The child imports dbt once, keeps the manifest warm,
and talks only through its pipes. It runs in the project folder, where the project's team runs
dbt (relative profile paths resolve as with `cd project && dbt build`). It never writes to the
terminal: its stdout carries the protocol only (fd 1 itself is pointed at the log), its stderr
goes to `<workspace>/logs/worker.log`.

Client (stable API, used by the TUI)::

    client = WorkerClient(workspace)          # cost_per_hour=None, count_views=False,
                                              # write_artifacts=False (no run_results.json)
    client.start()                            # returns at once; the child imports dbt and parses
    client.wait_ready(timeout=None)           # -> seconds the warm-up took; raises WorkerError
                                              #    (one line) if the project failed to parse; the
                                              #    child stays up, later runs re-parse
    finished = client.run("build", select="fct_claims+", full_refresh=False, vars=None,
                          on_event=callback, exclude=None, state=None)   # -> RunFinished; blocking
    client.cancel()                           # thread-safe; the running request ends "cancelled"
    client.close()                            # stop the child (also on interpreter exit)

`run` blocks: call it from a thread. `on_event` receives `tui.core.run_events` objects in that
calling thread, ending with the RunFinished that `run` returns. One request at a time: a second
`run` while one is in flight raises `SessionBusy`. If the child dies, the request in flight ends
with status "interrupted" and the next `run` restarts the child (`restarts` counts them).

Protocol (JSON lines). Requests on the child's stdin: `{"op": "run", "command", "select",
"exclude", "full_refresh", "vars", "state"}`, `{"op": "cancel"}`, `{"op": "shutdown"}`.
Replies on its stdout: `{"type": "Ready", "seconds", "error"}` once after the warm-up, every
event as `events.to_json`, and `{"type": "RequestFailed", "error"}` for a refused request
(a RunFinished with status "error" follows it, so a run always ends with a RunFinished).
"""

from __future__ import annotations

import atexit
import gc
import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable

from tui.core.run_events import EVENT_TYPES, RunFinished, from_json
from tui.core.workspace import Workspace

READY, FAILED = "Ready", "RequestFailed"


class WorkerError(Exception):
    """The worker could not start or parse (one line for the user)."""


def _busy_error() -> Exception:
    from tui.core.dbt_host.session import SessionBusy

    return SessionBusy("dbt is already running a request: wait for it to finish or cancel it")


class WorkerClient:
    def __init__(self, workspace: Workspace, *, cost_per_hour: float | None = None, count_views: bool = False,
                 write_artifacts: bool = False, python: str = sys.executable):
        self.workspace = workspace
        self.cost_per_hour, self.count_views, self.python = cost_per_hour, count_views, python
        self.write_artifacts = write_artifacts
        self.restarts = 0
        self._process: subprocess.Popen | None = None
        self._eof = threading.Event()  # set by the reader when the current child's stdout closes
        self._events: queue.Queue = queue.Queue()
        self._ready = threading.Event()
        self._ready_error: str | None = None
        self._ready_seconds: float | None = None
        self._write_lock = threading.Lock()
        self._run_lock = threading.Lock()
        atexit.register(self.close)

    # --- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Spawn the child (returns at once). Does nothing when it is already running."""
        if self.alive:
            return
        self.workspace.ensure_dirs()
        self._ready.clear()
        self._ready_error = None
        self._events, self._eof = queue.Queue(), threading.Event()
        log = open(self.workspace.worker_log, "ab")
        try:
            self._process = subprocess.Popen(
                self._command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log,
                # dbt runs in the project folder, as its team runs it (relative profile paths)
                cwd=str(self.workspace.project_dir), start_new_session=True,  # Ctrl+C is ours to route
                env={**os.environ, "PYTHONUNBUFFERED": "1"})
        finally:
            log.close()
        threading.Thread(target=self._read, args=(self._process, self._events, self._eof),
                         name="pipeline-tui-worker-reader", daemon=True).start()

    def wait_ready(self, timeout: float | None = None) -> float:
        """Block until the child has imported dbt and parsed; returns the seconds it took."""
        if self._process is None:
            self.start()
        if not self._ready.wait(timeout):
            raise WorkerError(f"dbt worker not ready after {timeout:.0f} s: see {self.workspace.worker_log}")
        if self._ready_error:
            raise WorkerError(self._ready_error)
        return self._ready_seconds or 0.0

    @property
    def alive(self) -> bool:
        """The child runs and its stdout is open (EOF can come a moment before the exit is reapable)."""
        return self._process is not None and not self._eof.is_set() and self._process.poll() is None

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self._ready_error is None and self.alive

    def close(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            self._send({"op": "shutdown"}, process)
            process.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired, ValueError):
            process.kill()
            process.wait()

    # --- requests ---------------------------------------------------------------------------
    def run(self, command: str, select: str | None = None, full_refresh: bool = False, vars: dict | None = None,
            on_event: Callable[[Any], None] | None = None, *, exclude: str | None = None,
            state: str | Path | None = None) -> RunFinished:
        if not self._run_lock.acquire(blocking=False):
            raise _busy_error()
        try:
            if not self.alive:
                self._restart()
            request = {"op": "run", "command": command, "select": select, "exclude": exclude,
                       "full_refresh": full_refresh, "vars": vars, "state": str(state) if state else None}
            self._drain()
            self._send(request)
            return self._collect(on_event or (lambda event: None))
        finally:
            self._run_lock.release()

    def cancel(self) -> None:
        """Ask the child to stop the running request (thread-safe; harmless when idle)."""
        if self.alive:
            try:
                self._send({"op": "cancel"})
            except OSError:
                pass

    # --- plumbing ---------------------------------------------------------------------------
    def _command(self) -> list[str]:
        ws = self.workspace
        # -P: the project folder (the child's cwd) is not put on sys.path; its files never shadow a module
        args = [self.python, "-P", "-m", "tui.core.dbt_host.worker", "--root", str(ws.root), "--project-dir", str(ws.project_dir),
                "--profiles-dir", str(ws.profiles_dir)]
        args += ["--target", ws.target] if ws.target else []
        args += ["--embedded"] if ws.embedded else []
        args += ["--cost-per-hour", str(self.cost_per_hour)] if self.cost_per_hour is not None else []
        args += ["--write-artifacts"] if self.write_artifacts else []
        return args + (["--count-views"] if self.count_views else [])

    def _restart(self) -> None:
        if self._process is not None:
            self.restarts += 1
        self.close()
        self.start()

    def _send(self, message: dict, process: subprocess.Popen | None = None) -> None:
        process = process or self._process
        if process is None or process.stdin is None:
            raise OSError("dbt worker is not running")
        with self._write_lock:
            process.stdin.write((json.dumps(message) + "\n").encode())
            process.stdin.flush()

    def _read(self, process: subprocess.Popen, events: queue.Queue, eof: threading.Event) -> None:
        """Reader thread: control messages set state; events go to the queue; EOF ends it."""
        for raw in process.stdout:
            try:
                data = json.loads(raw)
            except ValueError:
                continue
            kind = data.get("type")
            if kind == READY:
                self._ready_seconds, self._ready_error = data.get("seconds"), data.get("error")
                self._ready.set()
            elif kind == FAILED or kind in EVENT_TYPES:
                events.put(data)
        if not self._ready.is_set():
            self._ready_error = f"dbt worker stopped while starting: see {self.workspace.worker_log}"
            self._ready.set()
        eof.set()
        events.put(None)  # EOF: the child is gone

    def _drain(self) -> None:
        """Drop leftovers of an earlier request (never the EOF mark: `alive` already saw it)."""
        while True:
            try:
                if self._events.get_nowait() is None:
                    self._events.put(None)
                    return
            except queue.Empty:
                return

    def _collect(self, on_event: Callable[[Any], None]) -> RunFinished:
        started = time.time()
        run_id = None
        while True:
            data = self._events.get()  # the reader always ends with None at EOF
            if data is None:
                return self._interrupted(on_event, run_id, started)
            if data.get("type") == FAILED:
                continue  # the RunFinished that follows carries the error
            event = from_json(json.dumps(data))
            run_id = getattr(event, "run_id", run_id)
            try:
                on_event(event)
            except Exception:  # the caller's callback must not lose the run's end
                pass
            if isinstance(event, RunFinished):
                return event

    def _interrupted(self, on_event: Callable[[Any], None], run_id: str | None, started: float) -> RunFinished:
        finished = RunFinished(run_id or f"worker-{started:.0f}", "interrupted", time.time(), time.time() - started,
                               f"dbt worker stopped unexpectedly (see {self.workspace.worker_log}); "
                               "it restarts on the next request")
        try:
            on_event(finished)
        except Exception:
            pass
        return finished


# --- the child --------------------------------------------------------------------------------
class _Child:
    """Runs in `python -m tui.core.dbt_host.worker`: requests from stdin, replies to the protocol stream."""

    def __init__(self, workspace: Workspace, protocol, options: dict):
        from tui.core.dbt_host.session import DbtSession

        self.protocol = protocol
        self.lock = threading.Lock()
        self.requests: queue.Queue = queue.Queue()
        self.session = DbtSession(workspace, **options)
        self._frozen_manifest: Any = None

    def send(self, message: Any) -> None:
        line = message if isinstance(message, str) else json.dumps(message)
        with self.lock:
            self.protocol.write(line + "\n")
            self.protocol.flush()

    def serve(self) -> None:
        threading.Thread(target=self._runner, name="pipeline-tui-runner", daemon=True).start()
        for raw in sys.stdin:
            try:
                request = json.loads(raw)
            except ValueError:
                continue
            if request.get("op") == "cancel":
                self.session.cancel()
            elif request.get("op") == "shutdown":
                break
            else:
                self.requests.put(request)
        self.session.cancel()
        self.requests.put(None)

    def _runner(self) -> None:
        began = time.perf_counter()
        error = None
        try:
            self.session.warm_up()
        except Exception as exc:  # SessionError or an import problem: report, stay up
            from tui.core.errors import translate

            error = translate(exc)
        self.send({"type": READY, "seconds": time.perf_counter() - began, "error": error})
        while (request := self.requests.get()) is not None:
            self._handle(request)
            if self.session.manifest is not self._frozen_manifest:
                self._freeze_heap()  # once the run's RunFinished went out (the first run is not held up)

    def _freeze_heap(self) -> None:
        """Move what lives as long as the manifest (dbt's modules, the parsed project: ~200k objects)
        out of the garbage collector's view. Without it, a full collection every few warm rebuilds
        scanned all of it: 60-200 ms each, 65-95 ms per rebuild on average (measured on the embedded
        project). Done after the first run and after each re-parse (which thaws, collects the old
        manifest, and freezes the new one): ~0.1-0.2 s while the worker is idle."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._frozen_manifest = self.session.manifest

    def _handle(self, request: dict) -> None:
        from tui.core.run_events import to_json

        try:
            self.session.invoke(
                request.get("command") or "build", request.get("select"), exclude=request.get("exclude"),
                full_refresh=bool(request.get("full_refresh")), vars=request.get("vars"), state=request.get("state"),
                on_event=lambda event: self.send(to_json(event)))
        except Exception as exc:  # refused before dbt ran (unknown command, busy)
            from tui.core.errors import translate

            message = translate(exc)
            self.send({"type": FAILED, "error": message})
            self.send(to_json(RunFinished(f"refused-{time.time():.3f}", "error", time.time(), 0.0, message)))


def _protocol_stream():
    """Keep the real stdout for the protocol; point fd 1 (and sys.stdout) at stderr, i.e. the log."""
    protocol = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return protocol


def main(argv: list[str] | None = None) -> None:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m tui.core.dbt_host.worker", description="pipeline-tui dbt worker")
    parser.add_argument("--root", required=True)
    parser.add_argument("--project-dir", required=True)
    parser.add_argument("--profiles-dir", required=True)
    parser.add_argument("--target")
    parser.add_argument("--embedded", action="store_true")
    parser.add_argument("--cost-per-hour", type=float)
    parser.add_argument("--count-views", action="store_true")
    parser.add_argument("--write-artifacts", action="store_true")
    args = parser.parse_args(argv)
    protocol = _protocol_stream()
    workspace = Workspace(Path(args.root), Path(args.project_dir), Path(args.profiles_dir), args.target, args.embedded)
    child = _Child(workspace, protocol, {"cost_per_hour": args.cost_per_hour, "count_views": args.count_views,
                                         "write_artifacts": args.write_artifacts})
    try:
        child.serve()
    finally:
        child.session.close()


if __name__ == "__main__":
    main()
