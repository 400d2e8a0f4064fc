"""Speed patches: per-invocation work dbt redoes that a warm process skips, without changing what dbt
builds or logs. Provides `PATCHES` (records for `patches.registry`); the graph patches are in
`patches.graph`, schema listing in `patches.duckdb`, the event chatter in `patches.chatter`.

Found with py-spy (`--gil`) on warm `build -s dim_plans` rebuilds of the embedded project; what each
saves, measured with it against without it, is in its record (`saving`).

- `warm.cache_jinja_compilation`: dbt compiles the same template strings (tests, configs, the
  profile, query headers) on every invocation; compiled code is kept by source and environment
  settings (the context, the undefined class and the globals are bound when the template is made
  from the code, which still happens every time).
- `warm.cache_type_testers`: dbt makes a new agate `TypeTester` (each with a parsedatetime calendar)
  for every query result with text columns; one is kept per set of text columns.
- `warm.copy_flag_object`: the `flags` context member is rebuilt from dbt's global flags for every
  context; it is made once per global flags object and copied for each context.
- `warm.write_compiled_sql_only_when_changed`: dbt rewrites `target/compiled/...` and `target/run/...`
  for every node; truncating a file waits for the filesystem journal, which DuckDB's commits keep
  busy. A file that already holds exactly the SQL is left alone (only its mtime stays).
- `warm.filter_file_log_by_level`: dbt's file logger formats and scrubs every event, debug ones
  included, before Python's logger drops those below its level; the filter drops them first, so
  `dbt.log` gets exactly the same lines.
"""

from __future__ import annotations

import copy
import os
from typing import Any

from tui.core.dbt_host.patches.registry import Context, Patch, Site

JINJA_CACHE_SIZE = 4096
CORE, COMMON = ("dbt-core", ">=1.11,<1.13"), ("dbt-common", ">=1.39,<1.40")


def _cache_jinja_compilation(ctx: Context) -> tuple:
    from dbt_common.clients import jinja as dbt_jinja

    original = ctx.original()
    cache: dict[tuple, Any] = {}

    def compile(self, source, *args, **kwargs):
        if not isinstance(source, str) or dbt_jinja.MACRO_DEBUGGING:
            return original(self, source, *args, **kwargs)
        key = (type(self), source, args, tuple(sorted(kwargs.items())), _settings(self))
        code = cache.get(key)
        if code is None:
            code = original(self, source, *args, **kwargs)
            if len(cache) >= JINJA_CACHE_SIZE:
                cache.clear()
            cache[key] = code
        return code

    return (compile,)


def _settings(env: Any) -> tuple:
    """What Jinja's code generator reads from an environment besides the source."""
    return (tuple(sorted(env.extensions)), frozenset(env.filters), frozenset(env.tests), env.finalize,
            env.autoescape, env.optimized, env.is_async, env.newline_sequence, env.keep_trailing_newline,
            env.trim_blocks, env.lstrip_blocks, env.block_start_string, env.variable_start_string,
            env.comment_start_string, getattr(env, "intercepted_binops", None),
            getattr(env, "intercepted_unops", None))


def _cache_type_testers(ctx: Context) -> tuple:
    original = ctx.original()
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

    return (build_type_tester,)


def _copy_flag_object(ctx: Context) -> tuple:
    from dbt import flags as flags_module

    original = ctx.original()
    made: list = [None, None]  # the global flags object it was made from, the flags object

    def get_flag_obj():
        current = flags_module.GLOBAL_FLAGS
        if made[0] is not current:
            made[:] = [current, original()]
        return copy.copy(made[1])

    return (get_flag_obj,)


def _write_compiled_sql_only_when_changed(ctx: Context) -> tuple:
    original = ctx.original()

    def write_node(self, project_root: str, compiled_path, compiled_code: str):
        path = compiled_path if os.path.isabs(compiled_path) else os.path.join(project_root, compiled_path)
        if not holds(path, compiled_code):
            original(self, project_root, compiled_path, compiled_code)

    return (write_node,)


def holds(path: str, text: Any) -> bool:
    """The file exists and its text is exactly `text` (as dbt would write it)."""
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read() == str(text)
    except (OSError, ValueError):
        return False


def _filter_file_log_by_level(ctx: Context) -> tuple:
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.logger import _is_print_event, _log_level_map

    original = ctx.original()
    ranks = {EventLevel(level).value: rank for level, rank in _log_level_map.items()}

    def logfile_config(*args, **kwargs):
        config = original(*args, **kwargs)
        threshold, keep = _log_level_map[config.level], config.filter

        def level_filter(msg) -> bool:  # print events go out at error level (dbt's rule)
            wanted = _is_print_event(msg) or ranks.get(msg.info.level, threshold) >= threshold
            return wanted and keep(msg)

        config.filter = level_filter
        return config

    return (logfile_config,)


PATCHES = (
    Patch("warm.cache_jinja_compilation", "wrap", "speed", *COMMON, (
        Site("dbt_common.clients.jinja:MacroFuzzEnvironment", "compile", signatures=(
            "(self, source, name=None, filename=None, raw=False, defer_init=False)",
        )),),
        why="Each template string is parsed and code-generated once per process.",
        saving="CPU 40 ms, wall 637 ms (-186 to 894): the largest single saving",
        build=_cache_jinja_compilation),
    Patch("warm.cache_type_testers", "wrap", "speed", *COMMON, (
        Site("dbt_common.clients.agate_helper", "build_type_tester", signatures=(
            "(text_columns, string_null_values=('null', ''))",
        )),),
        why="One agate type tester per set of text columns instead of one per query result.",
        saving=("CPU 5 ms, wall 87 ms (-170 to 782): within noise alone; with the 5 other small "
                "wraps: CPU 35 ms, wall 224 ms"), build=_cache_type_testers),
    Patch("warm.copy_flag_object", "wrap", "speed", *CORE, (
        Site("dbt.flags", "get_flag_obj", signatures=("()",), names=("GLOBAL_FLAGS",)),),
        why="The `flags` context member is made once per invocation and copied per context.",
        saving=("CPU -10 ms, wall 31 ms (-275 to 695): within noise alone; with the 5 other small "
                "wraps: CPU 35 ms, wall 224 ms"), build=_copy_flag_object),
    Patch("warm.write_compiled_sql_only_when_changed", "wrap", "speed", *CORE, (
        Site("dbt.contracts.graph.nodes:ParsedNode", "write_node", signatures=(
            "(self, project_root, compiled_path, compiled_code)",
        )),),
        why="Compiled SQL files that already hold the SQL are not rewritten.",
        saving=("CPU -32 ms, wall -132 ms (-547 to 346): within noise alone (it saves I/O waits); "
                "with the 5 other small wraps: CPU 35 ms, wall 224 ms"),
        build=_write_compiled_sql_only_when_changed),
    Patch("warm.filter_file_log_by_level", "wrap", "speed", *CORE, (
        Site("dbt.events.logging", "_get_logfile_config", signatures=(
            "(log_path, use_colors, line_format, level, log_file_max_bytes, log_cache_events=False)",
        )),),
        why="Debug events are dropped before dbt's file logger formats them.",
        saving=("CPU 10 ms, wall -22 ms (-720 to 439): within noise alone; with the 5 other small "
                "wraps: CPU 35 ms, wall 224 ms"), build=_filter_file_log_by_level),
)
