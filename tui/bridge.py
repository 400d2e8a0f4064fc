"""The bridge between the app and the dbt worker process.

Provides `DbtBridge`: starts the persistent worker (`tui.core.dbt_host.worker.WorkerClient`) and sends it
requests from daemon threads, which only wait on the pipe (daemon threads rather than Textual
thread workers: Textual waits for its workers at exit, and a worker still importing dbt would
hold up quitting by seconds). Events land in a deque and a
merging `RunEventsPending` message tells the UI to drain it; the threads never touch widgets.
dbt is never imported in this process.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from tui.core.run_requests import RunRequest
from tui.messages import DbtFailed, DbtReady, RunDone, RunEventsPending

if TYPE_CHECKING:
    from textual.app import App


def one_line(error: BaseException | str) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]


class DbtBridge:
    def __init__(self, app: App, make_client: Callable[[], Any]):
        self.app = app
        self._make_client = make_client
        self.client: Any = None
        self.events: deque = deque()
        self._notified = threading.Event()
        self.ready = False  # requests can be sent (also after a failed parse: each run parses again)
        self.failed: str | None = None  # why the worker could not start, when it could not
        self.busy = False

    # --- start ----------------------------------------------------------------------------
    def start(self) -> None:
        self._thread(self._start, "dbt-start")

    @staticmethod
    def _thread(target, name: str) -> None:
        """A daemon thread, not a Textual worker: quitting never waits for dbt to finish importing."""
        threading.Thread(target=target, name=name, daemon=True).start()

    def _start(self) -> None:
        began = time.perf_counter()
        try:
            self.client = self._make_client()
            self.client.start()
            self.client.wait_ready()
        except Exception as error:  # the child could not start or parse: tell the user, stay usable
            # a parse error is fixed in the files, then `b` retries (the worker parses every request)
            self.ready = self.client is not None
            self.failed = None if self.ready else f"dbt could not start: {one_line(error)}"
            self.app.post_message(DbtFailed(one_line(error)))
            return
        self.ready = True
        self.app.post_message(DbtReady(time.perf_counter() - began))

    # --- runs -----------------------------------------------------------------------------
    def submit(self, request: RunRequest) -> bool:
        """Start a request in a thread worker; False when another one is still running."""
        if self.busy or self.client is None:
            return False
        self.busy = True
        self._thread(lambda: self._run(request), "dbt-run")
        return True

    def _run(self, request: RunRequest) -> None:
        try:
            finished = self.client.run(
                request.command, select=request.select, full_refresh=request.full_refresh,
                state=request.state_dir, on_event=self._on_event,
            )
            status, error = finished.status, finished.error
        except Exception as error:
            status, error = "error", one_line(error)
        finally:
            self.busy = False
        self.app.post_message(RunDone(status, error))

    def _on_event(self, event: Any) -> None:
        """Worker thread: queue the event; wake the UI only if it has not been woken already."""
        self.events.append(event)
        if not self._notified.is_set():
            self._notified.set()
            self.app.post_message(RunEventsPending())

    def drain(self) -> list:
        """UI thread: take every queued event (the next event will wake the UI again)."""
        self._notified.clear()
        out = []
        while self.events:
            out.append(self.events.popleft())
        return out

    # --- control --------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the client to stop, from a thread: the UI never waits on the pipe or the process."""
        if self.client is not None and self.busy:
            self._thread(self.client.cancel, "dbt-cancel")

    def close(self) -> None:
        """Stop the worker without holding up the exit: a worker still importing dbt only reads
        its shutdown request afterwards (seconds), and stdin closing at our exit stops it too."""
        if self.client is not None:
            self._thread(self._close_quietly, "dbt-close")

    def _close_quietly(self) -> None:
        try:
            self.client.close()
        except Exception:  # already gone: nothing to stop
            pass
