"""dbt's event chatter, built and delivered only when something wants it (`tui.core.dbt_host.patches.warm`).

Provides `CHATTER` (the switch the session turns on around its own invocations: `with CHATTER.on():`),
`install()` (once per process, from `session_warm.install`), `is_pending(event)` and `ORIGINALS`.

dbt builds every event as a protobuf message through `json_format.ParseDict` twice (the event, then
its envelope with a timestamp parsed back from a string). A warm `build -s dim_plans` fires ~320,
~280 of them debug-level connection/query/cache chatter (`CHATTER_EVENTS`) that no logger writes
(the file log is at info) and the app's callbacks (`tui.core.dbt_host.translator`) never read. While the
switch is on, those are built lazily (on first attribute access) and dropped unbuilt by
`EventManager.fire_event` when every logger's level is above debug: with `--log-level-file debug`
they are all built and written as before. Anything that reads an event still gets all of it. The
envelope of the events that are fired is filled field by field instead of through `ParseDict`
(the same message; a value it does not take falls back to dbt's way). Measured with py-spy on a
loaded 2-core machine: 50-100 ms of GIL time per warm rebuild before, ~20 ms after.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any

# Debug-level dbt events fired hundreds of times per run that neither dbt's logic nor the app's
# callbacks (`tui.core.dbt_host.translator`) read; they only ever reach a debug log.
CHATTER_EVENTS = frozenset({
    "ConnectionUsed", "SQLQuery", "SQLQueryStatus", "CacheAction", "NewConnectionOpening",
    "ConnectionClosed", "ConnectionReused", "WritingInjectedSQLForNode", "Rollback", "NodeCompiling",
    "NodeExecuting", "JinjaLogDebug", "SQLCommit", "NewConnection", "ConnectionClosedInCleanup",
    "ConnectionLeftOpenInCleanup", "ConnectionLeftOpen", "NodeStart", "EndRunResult", "MainReportArgs",
    "ResourceReport",
})
ORIGINALS: dict[str, Any] = {}  # dbt's own functions that a patch replaced outright (tests compare)
_installed = False


class ChatterSwitch:
    """On during the session's own invocations; dbt run by anyone else in the process sees every event."""

    def __init__(self) -> None:
        self._depth = 0
        self._lock = threading.Lock()
        self.dropped = 0  # events dropped unbuilt (tests)

    @property
    def enabled(self) -> bool:
        return self._depth > 0

    @contextlib.contextmanager
    def on(self):
        with self._lock:
            self._depth += 1
        try:
            yield self
        finally:
            with self._lock:
                self._depth -= 1


CHATTER = ChatterSwitch()


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    _build_chatter_lazily()
    _drop_unwanted_chatter()
    _fill_envelopes_directly()


# --- events -----------------------------------------------------------------------------------
def _build_chatter_lazily() -> None:
    from dbt_common.events.base_types import BaseEvent

    original_init = BaseEvent.__init__

    def __init__(self, *args, **kwargs):
        if CHATTER.enabled and type(self).__name__ in CHATTER_EVENTS:
            object.__setattr__(self, "_pending", (args, kwargs))
        else:
            original_init(self, *args, **kwargs)

    def _built(self) -> Any:
        pending = self.__dict__.pop("_pending", None)
        if pending is not None:
            original_init(self, *pending[0], **pending[1])
        return object.__getattribute__(self, "pb_msg")

    def __getattr__(self, key):  # only called when normal lookup fails, e.g. a field of pb_msg
        pb_msg = _built(self)
        return pb_msg if key == "pb_msg" else pb_msg.__getattribute__(key)

    def __setattr__(self, key, value):
        if key == "pb_msg":
            object.__setattr__(self, key, value)
        else:
            _built(self).__setattr__(key, value)

    BaseEvent.__init__, BaseEvent.__getattr__, BaseEvent.__setattr__ = __init__, __getattr__, __setattr__


def is_pending(event: Any) -> bool:
    """The event was never built (tests)."""
    return "_pending" in event.__dict__


def _drop_unwanted_chatter() -> None:
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.logger import _log_level_map

    original = EventManager.fire_event

    def fire_event(self, e, level=None, node=None, force_warn_or_error_handling=False):
        if (is_pending(e) and not force_warn_or_error_handling and (level or EventLevel.DEBUG) == EventLevel.DEBUG
                and e.level_tag() == EventLevel.DEBUG and not os.environ.get("DBT_TEST_BINARY_SERIALIZATION")
                and all(_log_level_map[logger.level] > logging.DEBUG for logger in self.loggers)):
            CHATTER.dropped += 1
            return None
        return original(self, e, level=level, node=node, force_warn_or_error_handling=force_warn_or_error_handling)

    EventManager.fire_event = fire_event


def _fill_envelopes_directly() -> None:
    from datetime import datetime, timezone

    from dbt_common.events import base_types, event_manager

    original = ORIGINALS["msg_from_base_event"] = base_types.msg_from_base_event

    def msg_from_base_event(event, level=None):
        try:
            envelope = getattr(event.PROTO_TYPES_MODULE, f"{type(event).__name__}Msg")()
            info = envelope.info
            info.level = level.value if level else event.level_tag().value
            info.msg = event.message()
            info.invocation_id = base_types.get_invocation_id()
            info.extra.update(base_types.get_global_metadata_vars())
            info.ts.FromDatetime(datetime.now(timezone.utc).replace(tzinfo=None))
            info.pid = base_types.get_pid()
            info.thread = base_types.get_thread_name()
            info.code = event.code()
            info.name = type(event).__name__
            envelope.data.CopyFrom(event.pb_msg)
            return envelope
        except (TypeError, ValueError, AttributeError):  # e.g. a message that is not a string: dbt's way
            return original(event, level=level)

    base_types.msg_from_base_event = event_manager.msg_from_base_event = msg_from_base_event
