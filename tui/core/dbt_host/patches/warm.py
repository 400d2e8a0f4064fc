"""Per-invocation work dbt redoes that a warm session skips, without changing what dbt builds or logs.

Provides `install()` (once per process; `tui.core.dbt_host.host.install_patches` calls it), which also
installs `tui.core.dbt_host.patches.chatter` (dbt's debug event chatter built only when wanted), and
`ORIGINALS` (dbt's own functions that a patch replaced outright, for tests to compare).
Found with py-spy (`--gil`) on warm `build -s dim_plans` rebuilds of the embedded project (one
model, 8 tests); the figures are GIL time per rebuild on the shared 2-core machine (load 3-6),
so they are upper bounds:

- Jinja compilation (~15-30 ms): dbt compiles the same template strings (tests, configs, the
  profile, query headers) on every invocation; compiled code is now kept by source and environment
  settings, so a template is parsed and code-generated once per process.
- agate type testers (~10-20 ms): dbt makes a new `TypeTester` (each with a parsedatetime
  calendar) for every query result with text columns; one is now kept per set of text columns, as
  dbt already does for its shared `DEFAULT_TYPE_TESTER`.
- schema creation (a connection and four queries, 15-40 ms of wall time): dbt lists the schemas
  that exist with the database name quoted (`"warehouse"`), which dbt-duckdb's `list_schemas`
  compares with `lower(catalog_name)` as a string: nothing ever matches, so every selected schema
  was created again (`create schema if not exists`) on a connection of its own. The name now
  reaches the macro unquoted, so only a schema that is really missing is created, as dbt intends.
- macro namespaces (~2-3 ms): every node context (two per test, more per model) gets a
  `MacroGenerator` for each of the ~530 macros; they are now made in one loop with the same four
  attributes (the namespaces hold the same objects in the same places).
- the `flags` context member (~5-10 ms): rebuilt from dbt's global flags for every context; now
  made once per invocation (per global flags object) and copied for each context.
- schema validation (~5 ms): `dbtClassMixin.validate` made a new jsonschema validator for every
  test result row; one is kept per class (its JSON schema is already cached by dbt).
- the selected subgraph (~10-20 ms): dbt copies the whole linked graph to cut out the selected
  nodes on every invocation; the cut is now kept per graph object (the session reuses the linked
  graph while the manifest is unchanged, `session_dbt.GRAPH_REUSE`) and selected set, and each
  invocation gets its own copy of it (dbt's queue consumes the graph it is given).
- behaviour flag sources (~3 ms): the adapter names the module that declared each behaviour flag
  with `inspect.stack()`, which reads the source lines of every frame; the frames are now walked
  without their source (the same first module that is not dbt's behaviour-flag module).
- compiled SQL files (~20 ms of wall time on dbt's node threads, blocked in `open()`): dbt
  rewrites `target/compiled/...` and `target/run/...` for every node it runs; truncating a file
  waits for the filesystem journal, which DuckDB's commits keep busy with `fdatasync`. A file
  that already holds exactly the SQL is now left alone (same bytes on disk; only its mtime stays).
- plugin discovery (~10 ms): dbt lists every module on `sys.path` for `dbt_*` plugins on every
  invocation; the list is kept for the process (dbt itself keeps it when its test caching is on).
"""

from __future__ import annotations

import threading
from typing import Any

from tui.core.dbt_host.patches import chatter as session_chatter
from tui.core.dbt_host.patches.chatter import ORIGINALS  # noqa: F401  (one registry for both modules)

JINJA_CACHE_SIZE = 4096
_installed = False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    session_chatter.install()
    _cache_jinja_compilation()
    _cache_type_testers()
    _cache_plugin_modules()
    _list_schemas_unquoted()
    _build_macro_namespaces_quickly()
    _copy_flag_object()
    _cache_validators()
    _keep_subset_graphs()
    _name_flag_sources_without_source_lines()
    _write_compiled_sql_only_when_changed()


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


# --- files ------------------------------------------------------------------------------------
def _write_compiled_sql_only_when_changed() -> None:
    import os

    from dbt.contracts.graph.nodes import ParsedNode

    original = ParsedNode.write_node

    def write_node(self, project_root: str, compiled_path, compiled_code: str):
        path = compiled_path if os.path.isabs(compiled_path) else os.path.join(project_root, compiled_path)
        if not holds(path, compiled_code):
            original(self, project_root, compiled_path, compiled_code)

    ParsedNode.write_node = write_node


def holds(path: str, text: Any) -> bool:
    """The file exists and its text is exactly `text` (as dbt would write it)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read() == str(text)
    except (OSError, ValueError):
        return False
