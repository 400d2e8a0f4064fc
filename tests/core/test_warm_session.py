"""What a warm session skips on each invocation (the speed patches of `tui.core.dbt_host.patches`) without
changing dbt's results.

Real dbt, real DuckDB: a tiny project with a model in a schema of its own, built through `DbtSession`.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tiny_dbt import TINY_ROWS, make_tiny_dbt_project
from tui.core.run_events import NodeFinished
from tui.core.dbt_host.session import DbtSession

EXTRA_SCHEMA_MODEL = {"models/marts/fct_extra.sql": "{{ config(materialized='table', schema='extra') }}\n"
                                                     "select id, price from {{ ref('stg_items') }}"}
WRITE = "import duckdb, sys; c = duckdb.connect(sys.argv[1]); c.execute(sys.argv[2]); c.close()"
READ = ("import duckdb, sys, json; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(json.dumps(c.execute(sys.argv[2]).fetchall()))")


@pytest.fixture
def host():
    from tui.core.dbt_host.host import DbtHost

    host = DbtHost()
    host.install()
    return host


def in_another_process(code: str, workspace, sql: str):
    out = subprocess.run([sys.executable, "-c", code, str(workspace.warehouse), sql],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout) if out.stdout.strip() else None


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    from tui.core.workspace import Workspace

    root = tmp_path_factory.mktemp("warm")
    project = make_tiny_dbt_project(root / "project", EXTRA_SCHEMA_MODEL)
    session = DbtSession(Workspace.resolve(workspace=root / "ws", project_dir=project))
    finished = session.invoke("build")
    assert finished.status == "success", finished.error
    yield session
    session.close()


def new_log_lines(session, run):
    log = session.workspace.log_path / "dbt.log"
    before = log.stat().st_size
    finished = run()
    with log.open(encoding="utf-8") as handle:
        handle.seek(before)
        return finished, handle.read()


# --- events -----------------------------------------------------------------------------------
def test_chatter_is_dropped_unbuilt_and_the_results_are_unchanged(session):
    dropped = session.host.chatter.dropped
    events = []
    finished = session.invoke("build", select="fct_items", on_event=events.append)
    assert finished.status == "success", finished.error
    assert session.host.chatter.dropped - dropped > 20  # queries, connections, cache actions
    done = {e.name: e for e in events if isinstance(e, NodeFinished)}
    assert done["fct_items"].status == "success" and done["fct_items"].rows == TINY_ROWS
    assert {done[t].status for t in ("unique_fct_items_id", "not_null_fct_items_id")} == {"pass"}
    assert in_another_process(READ, session.workspace, "select count(*) from fct_items") == [[TINY_ROWS]]


def test_a_debug_file_log_still_gets_every_chatter_event(session):
    dropped = session.host.chatter.dropped
    finished, text = new_log_lines(session, lambda: session.invoke(
        "build", select="fct_items", extra_args=("--log-level-file", "debug")))
    assert finished.status == "success", finished.error
    assert session.host.chatter.dropped == dropped  # a logger wanted debug events: none dropped
    assert "On model.tiny.fct_items: BEGIN" in text or "Using duckdb connection" in text
    assert "SQL status:" in text and "count(*) as failures" in text  # SQLQueryStatus, the test's SQLQuery


def test_the_info_log_is_the_same_without_chatter(session):
    finished, text = new_log_lines(session, lambda: session.invoke("build", select="fct_items"))
    assert finished.status == "success", finished.error
    assert "OK created sql table model main.fct_items" in text and "PASS unique_fct_items_id" in text
    assert "SQL status:" not in text and "[debug]" not in text


def test_a_lazily_built_event_is_the_same_event(host):
    from dbt.adapters.events.types import SQLQuery

    from tui.core.dbt_host.patches.chatter import is_pending

    eager = SQLQuery(conn_name="master", sql="select 1", node_info={})
    with host.invocation():
        lazy = SQLQuery(conn_name="master", sql="select 1", node_info={})
    assert is_pending(lazy) and not is_pending(eager)
    assert lazy.message() == eager.message() and lazy.conn_name == "master"  # built on first read
    assert not is_pending(lazy) and lazy.to_dict() == eager.to_dict()
    with host.invocation():
        changed = SQLQuery(conn_name="master", sql="select 1", node_info={})
    changed.sql = "select 2"  # a write builds it first, then lands in the message
    assert changed.to_dict()["sql"] == "select 2"


# --- jinja, agate, plugins ----------------------------------------------------------------------
def test_compiled_templates_are_reused_but_never_across_environments_or_contexts():
    from dbt.clients import jinja as dbt_jinja
    from dbt_common.clients import jinja

    from tui.core.dbt_host.patches import REGISTRY

    REGISTRY.install()
    source = "{{ a + b }}"
    assert dbt_jinja.get_rendered(source, {"a": 1, "b": 2}) == "3"
    assert dbt_jinja.get_rendered(source, {"a": 10, "b": 5}) == "15"
    assert dbt_jinja.get_rendered(source, {"a": 1, "b": 2}, native=True) == 3  # a native environment: an int
    env = jinja.get_environment()
    assert env.compile("{{ x }} cached") is jinja.get_environment().compile("{{ x }} cached")
    native = jinja.get_environment(native=True).compile("{{ x }} cached")
    assert native is not env.compile("{{ x }} cached")
    with pytest.raises(Exception):
        dbt_jinja.get_rendered("{{ unclosed", {})  # a syntax error is still one, and is not cached
    with pytest.raises(Exception):
        dbt_jinja.get_rendered("{{ unclosed", {})


def test_type_testers_are_kept_per_text_columns_and_type_the_same():
    from dbt_common.clients import agate_helper

    from tui.core.dbt_host.patches import REGISTRY

    REGISTRY.install()
    assert agate_helper.build_type_tester(["a"], string_null_values=()) is \
        agate_helper.build_type_tester(["a"], string_null_values=())
    assert agate_helper.build_type_tester(["a"]) is not agate_helper.build_type_tester(["b"])
    table = agate_helper.table_from_data_flat([{"a": "null", "n": 2}, {"a": "x", "n": 3}], ["a", "n"])
    assert [type(t).__name__ for t in table.column_types] == ["Text", "Integer"]
    assert list(table.columns["a"]) == ["null", "x"]  # text-only column: 'null' stays text
    other = agate_helper.table_from_data_flat([{"b": "", "d": "2024-01-02"}], ["b", "d"])
    assert list(other.columns["b"]) == [""]


def test_plugin_modules_are_found_once_and_are_the_same():
    import importlib
    import pkgutil

    from dbt.plugins.manager import PluginManager

    from tui.core.dbt_host.patches import REGISTRY

    REGISTRY.install()
    fresh = {name: importlib.import_module(name) for _, name, _ in pkgutil.iter_modules() if name.startswith("dbt_")}
    assert PluginManager.get_prefixed_modules() == fresh
    assert PluginManager.get_prefixed_modules() == fresh


# --- schemas ----------------------------------------------------------------------------------
def test_unquoted_database_names():
    from tui.core.dbt_host.patches.duckdb import unquoted

    assert unquoted('"warehouse"') == "warehouse"
    assert unquoted('"we""ird"') == 'we"ird'
    assert unquoted("warehouse") == "warehouse" and unquoted(None) is None and unquoted('"') == '"'


def test_an_existing_schema_is_not_created_again_and_a_dropped_one_is(session):
    finished, text = new_log_lines(session, lambda: session.invoke(
        "build", select="fct_extra", extra_args=("--log-level-file", "debug")))
    assert finished.status == "success", finished.error
    assert "create schema if not exists" not in text  # main_extra exists: only listed
    in_another_process(WRITE, session.workspace, "drop schema main_extra cascade")
    finished, text = new_log_lines(session, lambda: session.invoke(
        "build", select="fct_extra", extra_args=("--log-level-file", "debug")))
    assert finished.status == "success", finished.error
    assert 'create schema if not exists "warehouse"."main_extra"' in text
    assert in_another_process(READ, session.workspace, "select count(*) from main_extra.fct_extra") == [[TINY_ROWS]]


# --- contexts ---------------------------------------------------------------------------------
def test_the_flags_object_is_made_once_per_invocation_and_copied(session):
    from argparse import Namespace

    from dbt import flags

    before = flags.get_flags()
    try:
        flags.set_flags(Namespace(WARN_ERROR=True, FULL_REFRESH=False, WHICH="build"))
        first = flags.get_flag_obj()
        first.WARN_ERROR = "changed by a context"
        again = flags.get_flag_obj()
        assert again.WARN_ERROR is True and again is not first and again.WHICH == "build"
        flags.set_flags(Namespace(WARN_ERROR=False, FULL_REFRESH=True, WHICH="run"))
        assert (flags.get_flag_obj().WARN_ERROR, flags.get_flag_obj().FULL_REFRESH) == (False, True)
    finally:
        flags.set_flags(before)


def test_event_envelopes_are_the_same_as_dbts():
    from dbt.events.types import MainReportVersion
    from dbt_common.events import base_types
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.types import Note

    from tui.core.dbt_host.patches import REGISTRY

    REGISTRY.install()
    ours, dbts = base_types.msg_from_base_event, REGISTRY.original("chatter.fill_envelopes_directly")
    for event, level in ((MainReportVersion(version="1.2.3", log_version=3), None),
                         (Note(msg="a note"), EventLevel.WARN), (Note(msg="é ünïcode"), None)):
        fast, slow = ours(event, level=level), dbts(event, level=level)
        assert abs(fast.info.ts.ToMicroseconds() - slow.info.ts.ToMicroseconds()) < 5_000_000
        fast.info.ts.CopyFrom(slow.info.ts)
        assert fast == slow and fast.info.level == (level or event.level_tag()).value and fast.info.msg


# --- the warehouse opened in advance ------------------------------------------------------------
HOLD = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); "
        "sys.stdin.readline(); c.close()")


def test_the_warehouse_is_opened_in_advance_and_free_after_the_run(session):
    opened = session.host.opener.opened
    for _ in range(2):
        assert session.invoke("build", select="fct_items").status == "success"
        assert in_another_process(READ, session.workspace, "select count(*) from fct_items") == [[TINY_ROWS]]
    assert session.host.opener.opened - opened == 2


def test_a_warehouse_held_elsewhere_fails_the_run_in_one_line_and_the_next_run_works(session):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(session.workspace.warehouse)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        finished = session.invoke("build", select="fct_items")
        assert finished.status == "error" and "lock" in finished.error.lower() and "\n" not in finished.error
    finally:
        holder.communicate("\n", timeout=30)
    assert session.invoke("build", select="fct_items").status == "success"
    assert in_another_process(READ, session.workspace, "select count(*) from fct_items") == [[TINY_ROWS]]


def test_changed_profile_settings_replace_the_database_opened_in_advance(tmp_path):
    from tui.core.workspace import Workspace

    project = make_tiny_dbt_project(tmp_path / "project")
    workspace = Workspace.resolve(workspace=tmp_path / "ws", project_dir=project)
    session = DbtSession(workspace, history=None)
    try:
        assert session.invoke("build").status == "success"
        profile = project / "profiles.yml"
        profile.write_text(profile.read_text() + "        TimeZone: 'America/New_York'\n")
        events = []
        finished = session.invoke("run", select="fct_items", on_event=events.append)
        assert finished.status == "success", finished.error  # no "different configuration" error
        assert session.invoke("run", select="fct_items").status == "success"
    finally:
        session.close()
    assert in_another_process(READ, workspace, "select count(*) from fct_items") == [[TINY_ROWS]]


def test_a_kept_subset_graph_is_dbts_cut_and_each_caller_gets_its_own_copy():
    import networkx as nx
    from dbt.graph.graph import Graph

    from tui.core.dbt_host.patches import REGISTRY

    REGISTRY.install()
    full = Graph(nx.DiGraph([("a", "b"), ("b", "c"), ("c", "d"), ("a", "e")]))
    first = full.get_subset_graph(["a", "c", "d"])
    assert sorted(first.graph.edges) == [("a", "c"), ("c", "d")]  # b cut out, its edge kept across it
    first.graph.remove_node("a")  # dbt's queue consumes the graph it gets
    second = full.get_subset_graph({"a", "c", "d"})
    assert sorted(second.graph.edges) == [("a", "c"), ("c", "d")] and second.graph is not first.graph
    other = Graph(nx.DiGraph([("a", "c"), ("c", "d")]))  # another graph object: its own cut
    assert sorted(other.get_subset_graph(["c", "d"]).graph.edges) == [("c", "d")]


# --- files ------------------------------------------------------------------------------------
def test_compiled_sql_is_rewritten_only_when_it_changes(session):
    project = session.workspace.project_dir
    compiled = session.workspace.target_path / "compiled" / "tiny" / "models" / "marts" / "fct_items.sql"
    run_sql = session.workspace.target_path / "run" / "tiny" / "models" / "marts" / "fct_items.sql"
    assert session.invoke("build", select="fct_items").status == "success"
    stamps = compiled.stat().st_mtime_ns, run_sql.stat().st_mtime_ns
    text = compiled.read_text()
    assert session.invoke("build", select="fct_items").status == "success"
    assert (compiled.stat().st_mtime_ns, run_sql.stat().st_mtime_ns) == stamps and compiled.read_text() == text
    model = project / "models" / "marts" / "fct_items.sql"
    original = model.read_text()
    try:
        model.write_text(original.replace("price * 2 as price2", "price * 3 as price2"))
        assert session.invoke("build", select="fct_items").status == "success"
        assert "price * 3" in compiled.read_text() and "price * 3" in run_sql.read_text()
    finally:
        model.write_text(original)
    assert session.invoke("build", select="fct_items").status == "success"
    assert "price * 2" in compiled.read_text()
