"""dbt's event chatter, built and delivered only when something wants it (speed patches).

Provides `PATCHES` (records for `patches.registry`), `CHATTER_EVENTS` and `is_pending(event)`.

dbt builds every event as a protobuf message through `json_format.ParseDict` twice (the event, then
its envelope with a timestamp parsed back from a string). A warm `build -s dim_plans` fires ~320,
~280 of them debug-level connection/query/cache chatter (`CHATTER_EVENTS`) that no logger writes
(the file log is at info) and the app's callbacks (`tui.core.dbt_host.translator`) never read. While
a host's invocation runs (`host.chatter.enabled`), those are built lazily (on first attribute access)
and dropped unbuilt by `EventManager.fire_event` when every logger's level is above debug: with
`--log-level-file debug` they are all built and written as before. Anything that reads an event
still gets all of it. The envelope of the events that are fired is filled field by field instead of
through `ParseDict` (the same message; a value it does not take falls back to dbt's way).
"""

from __future__ import annotations

import logging
import os
from typing import Any

from tui.core.dbt_host.patches.registry import Context, Patch, Site

# Debug-level dbt events fired hundreds of times per run that neither dbt's logic nor the app's
# callbacks (`tui.core.dbt_host.translator`) read; they only ever reach a debug log.
CHATTER_EVENTS = frozenset({
    "ConnectionUsed", "SQLQuery", "SQLQueryStatus", "CacheAction", "NewConnectionOpening",
    "ConnectionClosed", "ConnectionReused", "WritingInjectedSQLForNode", "Rollback", "NodeCompiling",
    "NodeExecuting", "JinjaLogDebug", "SQLCommit", "NewConnection", "ConnectionClosedInCleanup",
    "ConnectionLeftOpenInCleanup", "ConnectionLeftOpen", "NodeStart", "EndRunResult", "MainReportArgs",
    "ResourceReport",
})
COMMON = ("dbt-common", ">=1.39,<1.40")
BASE_EVENT = "dbt_common.events.base_types:BaseEvent"


def _chatter(ctx: Context) -> Any:
    host = ctx.current()
    return host.chatter if host is not None and host.chatter.enabled else None


def _build_chatter_lazily(ctx: Context) -> tuple:
    original_init = ctx.original(0)

    def __init__(self, *args, **kwargs):
        if type(self).__name__ in CHATTER_EVENTS and _chatter(ctx) is not None:
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

    return __init__, __getattr__, __setattr__


def is_pending(event: Any) -> bool:
    """The event was never built (tests)."""
    return "_pending" in event.__dict__


def _drop_unwanted_chatter(ctx: Context) -> tuple:
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.logger import _log_level_map

    original = ctx.original()

    def fire_event(self, e, level=None, node=None, force_warn_or_error_handling=False):
        chatter = _chatter(ctx)
        if (chatter is not None and is_pending(e) and not force_warn_or_error_handling
                and (level or EventLevel.DEBUG) == EventLevel.DEBUG and e.level_tag() == EventLevel.DEBUG
                and not os.environ.get("DBT_TEST_BINARY_SERIALIZATION")
                and all(_log_level_map[logger.level] > logging.DEBUG for logger in self.loggers)):
            chatter.dropped += 1
            return None
        return original(self, e, level=level, node=node, force_warn_or_error_handling=force_warn_or_error_handling)

    return (fire_event,)


def _fill_envelopes_directly(ctx: Context) -> tuple:
    from datetime import datetime, timezone

    from dbt_common.events import base_types

    original = ctx.original(0)

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

    return msg_from_base_event, msg_from_base_event


PATCHES = (
    Patch("chatter.build_lazily", "replace", "speed", *COMMON, (
        Site(BASE_EVENT, "__init__", signatures=("(self, *args, **kwargs)",)),
        Site(BASE_EVENT, "__getattr__", source_hashes=("9badc6bd8ca368ed",)),
        Site(BASE_EVENT, "__setattr__", source_hashes=("87b00a6af2a60796",))),
        why="Debug chatter events are built only when something reads them.",
        saving=("CPU 7 ms, wall 60 ms (-144 to 429), with drop_unwanted (it needs this one); the "
                "three chatter patches: CPU 49 ms, wall 241 ms"), build=_build_chatter_lazily),
    Patch("chatter.drop_unwanted", "wrap", "speed", *COMMON, (
        Site("dbt_common.events.event_manager:EventManager", "fire_event", signatures=(
            "(self, e, level=None, node=None, force_warn_or_error_handling=False)",
        )),),
        why="Unbuilt chatter no logger wants is dropped before dbt builds it.",
        saving=("CPU -5 ms, wall -33 ms (-432 to 339) alone; the three chatter patches: CPU 49 ms, "
                "wall 241 ms"), build=_drop_unwanted_chatter, requires=("chatter.build_lazily",)),
    Patch("chatter.fill_envelopes_directly", "replace", "speed", *COMMON, (
        Site("dbt_common.events.base_types", "msg_from_base_event", source_hashes=("8ba90907047834a9",)),
        Site("dbt_common.events.event_manager", "msg_from_base_event", source_hashes=("8ba90907047834a9",))),
        why="Event envelopes are filled field by field instead of through protobuf's ParseDict.",
        saving=("CPU -22 ms, wall -89 ms (-429 to 320) alone; the three chatter patches: CPU 49 ms, "
                "wall 241 ms"), build=_fill_envelopes_directly),
)
