"""Per-invocation work dbt redoes that a warm session skips, without changing what dbt builds or logs.

Provides `install()` (once per process; `tui.core.session_dbt.install_patches` calls it) and
`CHATTER`, the switch the session turns on around its own invocations (`with CHATTER.on(): ...`).
Measured with py-spy on a warm `build -s dim_plans` (one model, 8 tests, ~320 dbt events), each
of these was Python work holding the GIL on every invocation:

- chatter events (~50-100 ms): dbt builds every event as a protobuf message through
  `json_format.ParseDict` twice (the event, then its envelope with a timestamp parsed back from a
  string), ~270 of them debug-level connection/query/cache chatter that no logger writes (the file
  log is at info) and the app's callbacks never read. While `CHATTER` is on, those events are
  built lazily (on first attribute access) and dropped unbuilt by `EventManager.fire_event` when
  every logger's level is above debug. Anything that reads one still gets the whole event. The
  envelope of the events that are fired is filled field by field instead of through `ParseDict`
  (same message; any value it does not take falls back to dbt's way).
- Jinja compilation (~30 ms): dbt compiles the same template strings (tests, configs, the profile,
  query headers) on every invocation; compiled code is now kept by source and environment
  settings, so a template is parsed and code-generated once per process.
- agate type testers (~20 ms): dbt makes a new `TypeTester` (each with a parsedatetime calendar)
  for every query result with text columns; one is now kept per set of text columns, as dbt
  already does for its shared `DEFAULT_TYPE_TESTER`.
- schema creation (~15-40 ms, a connection and four queries): dbt lists the schemas that exist
  with the database name quoted (`"warehouse"`), which dbt-duckdb's `list_schemas` compares with
  `lower(catalog_name)` as a string: nothing ever matches, so every selected schema was created
  again (`create schema if not exists`) on a connection of its own. The name now reaches the
  macro unquoted, so only a schema that is really missing is created, as dbt intends.
- macro namespaces (~30-50 ms): every node context (two per test, more per model) gets a
  `MacroGenerator` for each of the ~700 macros of the project and its adapters, through three
  chained `__init__`s and two method calls each; they are now made with the same four attributes
  in one loop (the namespaces hold the same objects in the same places).
- the `flags` context member (~5-10 ms): rebuilt from dbt's global flags for every context; now
  made once per invocation (per global flags object) and copied for each context.
- schema validation (~5 ms): `dbtClassMixin.validate` made a new jsonschema validator for every
  test result row; one is kept per class (its JSON schema is already cached by dbt).
- the selected subgraph (~10-20 ms): dbt copies the whole linked graph to cut out the selected
  nodes on every invocation; with the linked graph reused (`session_dbt.GRAPH_REUSE`) the cut is
  kept per graph object and selected set, and each invocation gets its own copy of it (dbt's
  queue consumes the graph it is given).
- behaviour flag sources (~3 ms): the adapter names the module that declared each behaviour flag
  with `inspect.stack()`, which reads the source lines of every frame; the frames are now walked
  without their source (the same first module that is not dbt's behaviour-flag module).
- plugin discovery (~10 ms): dbt lists every module on `sys.path` for `dbt_*` plugins on every
  invocation; the list is kept for the process (dbt itself keeps it when its test caching is on).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from typing import Any

# Debug-level dbt events fired hundreds of times per run that neither dbt's logic nor the app's
# callbacks (`tui.core.dbt_events`) read; they only ever reach a debug log.
CHATTER_EVENTS = frozenset({
    "ConnectionUsed", "SQLQuery", "SQLQueryStatus", "CacheAction", "NewConnectionOpening",
    "ConnectionClosed", "ConnectionReused", "WritingInjectedSQLForNode", "Rollback", "NodeCompiling",
    "NodeExecuting", "JinjaLogDebug", "SQLCommit", "NewConnection", "ConnectionClosedInCleanup",
    "ConnectionLeftOpenInCleanup", "ConnectionLeftOpen", "NodeStart", "EndRunResult", "MainReportArgs",
    "ResourceReport",
})
JINJA_CACHE_SIZE = 4096
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
    _cache_jinja_compilation()
    _cache_type_testers()
    _cache_plugin_modules()
    _list_schemas_unquoted()
    _build_macro_namespaces_quickly()
    _copy_flag_object()
    _cache_validators()
    _keep_subset_graphs()
    _name_flag_sources_without_source_lines()


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


# --- jinja ------------------------------------------------------------------------------------
def _cache_jinja_compilation() -> None:
    """dbt makes a new environment per template but with the same settings; Jinja's generated code
    depends only on those settings and the source (the context, the undefined class and the
    globals are bound when the template is made from the code, which still happens every time)."""
    from dbt_common.clients import jinja as dbt_jinja

    environment_cls = dbt_jinja.MacroFuzzEnvironment
    original = environment_cls.compile
    cache: dict[tuple, Any] = {}

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if not isinstance(source, str) or dbt_jinja.MACRO_DEBUGGING:
            return original(self, source, name, filename, raw, defer_init)
        key = (type(self), source, name, filename, raw, defer_init, _settings(self))
        code = cache.get(key)
        if code is None:
            code = original(self, source, name, filename, raw, defer_init)
            if len(cache) >= JINJA_CACHE_SIZE:
                cache.clear()
            cache[key] = code
        return code

    environment_cls.compile = compile


def _settings(env: Any) -> tuple:
    """What Jinja's code generator reads from an environment besides the source."""
    return (tuple(sorted(env.extensions)), frozenset(env.filters), frozenset(env.tests), env.finalize,
            env.autoescape, env.optimized, env.is_async, env.newline_sequence, env.keep_trailing_newline,
            env.trim_blocks, env.lstrip_blocks, env.block_start_string, env.variable_start_string,
            env.comment_start_string, getattr(env, "intercepted_binops", None),
            getattr(env, "intercepted_unops", None))


# --- agate ------------------------------------------------------------------------------------
def _cache_type_testers() -> None:
    from dbt_common.clients import agate_helper

    original = agate_helper.build_type_tester
    cache: dict[tuple, Any] = {}

    def build_type_tester(text_columns=(), string_null_values=("null", "")):
        key = (tuple(text_columns), None if string_null_values is None else tuple(string_null_values))
        tester = cache.get(key)
        if tester is None:
            tester = original(key[0], string_null_values=string_null_values)
            if len(cache) >= 256:
                cache.clear()
            cache[key] = tester
        return tester

    agate_helper.build_type_tester = build_type_tester


# --- plugins ----------------------------------------------------------------------------------
def _cache_plugin_modules() -> None:
    from dbt.plugins.manager import PluginManager

    original = PluginManager.get_prefixed_modules.__func__
    found: dict[type, dict] = {}

    def get_prefixed_modules(cls):
        if cls not in found:
            found[cls] = original(cls)
        return dict(found[cls])

    PluginManager.get_prefixed_modules = classmethod(get_prefixed_modules)


# --- schemas ----------------------------------------------------------------------------------
def _list_schemas_unquoted() -> None:
    try:
        from dbt.adapters.duckdb.impl import DuckDBAdapter
    except ImportError:  # another adapter: nothing to do
        return
    original = DuckDBAdapter.list_schemas

    def list_schemas(self, database):
        return original(self, unquoted(database))

    DuckDBAdapter.list_schemas = list_schemas


def unquoted(database: str | None) -> str | None:
    """`"warehouse"` -> `warehouse` (a doubled quote inside stands for one); anything else as is."""
    if isinstance(database, str) and len(database) >= 2 and database[0] == database[-1] == '"':
        return database[1:-1].replace('""', '"')
    return database


# --- contexts ---------------------------------------------------------------------------------
def _build_macro_namespaces_quickly() -> None:
    from dbt.clients.jinja import MacroGenerator
    from dbt.context.macros import MacroNamespaceBuilder
    from dbt.exceptions import DuplicateMacroNameError

    if not _generator_attributes_are(MacroGenerator, {"context", "macro", "node", "stack"}):
        return  # another dbt version: its own loop stays

    new = object.__new__
    ORIGINALS["add_macros"] = MacroNamespaceBuilder.add_macros

    def add_macros(self, macros, ctx) -> None:
        node, stack, internal = self.node, self.thread_ctx, self.internal_package_names
        search_package, root_package = self.search_package, self.root_package
        for macro in macros:
            func = new(MacroGenerator)
            func.__dict__.update(context=ctx, macro=macro, node=node, stack=stack)
            name, package = macro.name, macro.package_name
            hierarchy = self.internal_packages if package in internal else self.packages
            namespace = hierarchy.setdefault(package, {})
            if name in namespace:
                raise DuplicateMacroNameError(macro, macro, package)  # dbt passes the new generator's macro twice
            namespace[name] = func
            if package not in internal:
                if package == search_package:
                    self.locals[name] = func
                elif package == root_package:
                    self.globals[name] = func

    MacroNamespaceBuilder.add_macros = add_macros


def _generator_attributes_are(cls: type, expected: set) -> bool:
    class Probe:
        name, package_name = "probe", "probe"

    return set(vars(cls(Probe(), {}, None, None))) == expected


def _copy_flag_object() -> None:
    import copy

    from dbt import flags as flags_module

    original = flags_module.get_flag_obj
    made: list = [None, None]  # the global flags object it was made from, the flags object

    def get_flag_obj():
        current = flags_module.GLOBAL_FLAGS
        if made[0] is not current:
            made[:] = [current, original()]
        return copy.copy(made[1])

    flags_module.get_flag_obj = get_flag_obj


def _cache_validators() -> None:
    import jsonschema
    from dbt_common.dataclass_schema import ValidationError, dbtClassMixin

    validators: dict[type, Any] = {}

    def validate(cls, data: Any) -> None:
        validator = validators.get(cls)
        if validator is None:
            validator = validators[cls] = jsonschema.Draft7Validator(cls.json_schema())
        error = next(iter(validator.iter_errors(data)), None)
        if error is not None:
            raise ValidationError.create_from(error) from error

    dbtClassMixin.validate = classmethod(validate)


# --- selection --------------------------------------------------------------------------------
def _keep_subset_graphs() -> None:
    import weakref

    from dbt.graph.graph import Graph

    original = Graph.get_subset_graph
    kept: "weakref.WeakKeyDictionary[Graph, dict]" = weakref.WeakKeyDictionary()
    lock = threading.Lock()

    def get_subset_graph(self, selected):
        include = frozenset(selected)
        with lock:
            subsets = kept.setdefault(self, {})
            subset = subsets.get(include)
        if subset is None:
            subset = original(self, include)
            with lock:
                if len(subsets) >= 64:
                    subsets.clear()
                subsets[include] = subset
        return Graph(subset.graph.copy())

    Graph.get_subset_graph = get_subset_graph


def _name_flag_sources_without_source_lines() -> None:
    import inspect
    import sys

    from dbt_common import behavior_flags

    own_module = behavior_flags.__name__

    def _default_source() -> str:
        frame = sys._getframe(1)  # dbt's own frame: `inspect.stack()` started at `_default_source`
        while frame is not None:
            module = inspect.getmodule(frame)
            if module and module.__name__ != own_module:
                return module.__name__
            frame = frame.f_back
        return "Unknown"

    behavior_flags.BehaviorFlagRendered._default_source = staticmethod(_default_source)
