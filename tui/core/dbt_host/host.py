"""The host of dbt in this process: the state the patches read, and the calls into dbt's adapters.

Provides `DbtHost`, owned by a `DbtSession`:
- `install()`: the patch registry checked and applied (`patches.REGISTRY`; raises `PatchMismatch`
  when a correctness patch does not fit the installed dbt); cheap once installed;
- `invocation()`: a context in which the patches serve this host (its cancel state, graphs and
  chatter); outside it they pass through to plain dbt;
- `cancel` (`CancelState`), `graphs` (`GraphReuse`: linked graphs kept while the manifest is the same
  object), `opener` (`WarehouseOpener`, `tui.core.dbt_host.opener`), `chatter` (`Chatter`: dbt's debug
  event chatter dropped unbuilt during this host's invocations);
- `stop_scheduling()`, `cancel_queries()`, `release_connections()`, `count_rows(relation)`,
  `private_connections()`, `adapters()`.
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from tui.core.dbt_host.opener import WarehouseOpener
from tui.core.dbt_host.patches import REGISTRY
from tui.core.dbt_host.patches.cancel import CANCEL_MESSAGE


class CancelState:
    """The cancel request of the running invocation, read by the cancel patches."""

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


class Chatter:
    """dbt's debug chatter: built lazily and dropped unbuilt while `enabled` (during this host's runs)."""

    def __init__(self) -> None:
        self.enabled = False
        self.dropped = 0  # events dropped unbuilt (tests)


class DbtHost:
    def __init__(self) -> None:
        self.cancel = CancelState()
        self.graphs = GraphReuse()
        self.opener = WarehouseOpener()
        self.chatter = Chatter()
        self.registry = REGISTRY
        self._task: Any = None  # dbt's task running `execute_nodes` (patch `cancel.track_task`)

    def install(self) -> None:
        self.registry.install()

    @contextlib.contextmanager
    def invocation(self):
        """While dbt runs for this host: the patches read this host's state."""
        self.install()
        self.registry.bind(self)
        self.chatter.enabled = True
        try:
            yield self
        finally:
            self.chatter.enabled = False
            self.registry.bind(None)

    def running_task(self, task: Any) -> None:
        self._task = task

    # --- cancel -----------------------------------------------------------------------------
    def stop_scheduling(self) -> None:
        """Make dbt's scheduler stop at its next step, as on Ctrl+C: dbt's task checks
        `_raise_next_tick` before it hands out the next node."""
        task = self._task
        if task is not None and task._raise_next_tick is None:
            task._raise_next_tick = KeyboardInterrupt(CANCEL_MESSAGE)

    def cancel_queries(self) -> None:
        for adapter in self.adapters():
            try:
                adapter.cancel_open_connections()
            except Exception:
                pass

    # --- adapters ---------------------------------------------------------------------------
    @staticmethod
    def adapters() -> list[Any]:
        from dbt.adapters.factory import FACTORY

        return list(FACTORY.adapters.values())

    def open_warehouse_in_advance(self) -> None:
        if self.registry.active("duckdb.open_in_advance"):
            self.opener.start()

    def release_connections(self) -> None:
        """Close dbt's connections and dbt-duckdb's database so the warehouse file is not held while idle."""
        self.opener.wait()
        for adapter in self.adapters():
            try:
                adapter.cleanup_connections()
                manager = type(adapter.connections)
                environment = getattr(manager, "_ENV", None)  # dbt-duckdb keeps its database open
                if environment is not None:
                    environment.close()
                    self.opener.remember(manager, environment)
                if hasattr(manager, "close_all_connections"):
                    manager.close_all_connections()
            except Exception:
                pass

    def private_connections(self) -> bool:
        """True when the adapter can give a connection dbt does not track (dbt-duckdb's environment):
        a row count on it may still run when dbt closes the connections it tracks at its end."""
        return any(_environment(adapter) is not None for adapter in self.adapters())

    def count_rows(self, relation: str) -> int:
        """Rows of a relation, on a connection of dbt's own adapter (same DuckDB instance: no second lock):
        a private one when `private_connections()`, else a named one of dbt's."""
        adapter = self.adapters()[0]
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
