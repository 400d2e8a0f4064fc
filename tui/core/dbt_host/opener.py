"""The warehouse opened again, in a thread, as soon as an invocation starts.

Provides `WarehouseOpener` (one per `DbtHost`): 20-40 ms that DuckDB spends without the GIL, while
dbt loads the profile and selects the nodes on the invoking thread. dbt's first connection waits for
it (patch `duckdb.open_in_advance`).
"""

from __future__ import annotations

import threading
from typing import Any


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
