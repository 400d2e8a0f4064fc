"""One-line error translation, on messages as dbt 1.11 / DuckDB 2.0 print them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core import errors

LOCKED = ('IO Error: Could not set lock on file "/ws/warehouse.duckdb": Conflicting lock is held in '
          '/usr/bin/python3.11 (PID 10717). See also https://duckdb.org/docs/current/connect/concurrency')
COMPILE = ("Compilation Error in model bad_jinja (models/bad_jinja.sql)\n  unexpected '}', expected ')'\n"
           "    line 2\n      {{ ref('x' }}")
RUNTIME = ("Runtime Error in model bad_sql (models/bad_sql.sql)\n  Parser Error: syntax error at or near \"where\"\n"
           "  \n  LINE 5:     select from where\n                          ^^^^^")
MISSING_REF = ("Compilation Error\n  Model 'model.proto.bad_jinja' (models/bad_jinja.sql) depends on a node named "
               "'missing_model' which was not found")
TARGET = ("Runtime Error\n  The profile 'proto' does not have a target named 'nosuch'. The valid target names for "
          "this profile are:\n   - dev\n   - prod")


class FakeWorkspace:
    project_dir = Path("/p")
    profiles_dir = Path("/profiles")


@pytest.mark.parametrize("raw, expected", [
    (LOCKED, "warehouse is locked by another process (PID 10717): close that process or retry when it is done"),
    (COMPILE, "compilation error in models/bad_jinja.sql line 2: unexpected '}', expected ')' (fix the file and run again)"),
    (RUNTIME, 'bad_sql failed (models/bad_sql.sql, compiled SQL line 5): Parser Error: syntax error at or near "where"'),
    (MISSING_REF, "compilation error in models/bad_jinja.sql: bad_jinja refers to 'missing_model', which does not exist"),
    (TARGET, "dbt profile 'proto' has no target 'nosuch' (valid: dev, prod): check --target"),
    ("Runtime Error\n  Could not find profile named 'shop'", "dbt profile 'shop' not found in /profiles/profiles.yml: check --profiles-dir"),
    ("Runtime Error\n  No dbt_project.yml found at expected path /p/dbt_project.yml",
     "no dbt project at /p (dbt_project.yml not found): check --project-dir"),
    (ValueError("first line\nsecond line"), "first line"),
])
def test_translate_gives_one_line_with_a_way_forward(raw, expected):
    assert errors.translate(raw, FakeWorkspace()) == expected


def test_lock_pid_is_parsed():
    assert errors.locked_by(LOCKED) == 10717 and errors.locked_by("other") is None


def test_long_messages_are_cut_to_one_short_line():
    line = errors.translate("x" * 1000 + "\nmore")
    assert len(line) <= errors.MAX_CHARS and "\n" not in line


# dbt 1.11's words for a `type: postgres` profile without dbt-postgres (DbtProfileError, as printed)
NO_ADAPTER = ('Runtime Error\n  Credentials in profile "shop", target "dev" invalid: Runtime Error\n'
              "    Could not find adapter type {adapter}!")


def test_a_missing_adapter_names_the_package_to_install():
    line = errors.translate(NO_ADAPTER.format(adapter="nosuchengine"))
    assert line.startswith("dbt adapter not installed: `pip install dbt-nosuchengine`")
    assert "target 'dev' of profile 'shop' is `type: nosuchengine`" in line and "Credentials" not in line
    assert "pip install dbt-athena-community" in errors.translate(NO_ADAPTER.format(adapter="athena"))


def test_an_installed_adapter_that_fails_to_load_is_not_told_to_install():
    line = errors.translate(NO_ADAPTER.format(adapter="duckdb"))  # installed here: its import failed elsewhere
    assert "installed but does not load" in line and "--force-reinstall dbt-duckdb" in line


def test_deprecation_warnings_name_what_is_deprecated():
    from types import SimpleNamespace

    from tui.core.dbt_host.translator import warning_text

    summary = SimpleNamespace(summaries=[SimpleNamespace(event_name="MissingArgumentsPropertyInGenericTestDeprecation",
                                                         occurrences=3)])
    text = warning_text("DeprecationsSummary", summary, "[WARNING][DeprecationsSummary]: Deprecated functionality\n\n…")
    assert text.startswith("deprecated dbt features in this project: MissingArgumentsPropertyInGenericTestDeprecation "
                           "(3 occurrences)")
    one = warning_text("ConfigDataPathDeprecation", SimpleNamespace(),
                       "[WARNING][ConfigDataPathDeprecation]: Deprecated functionality\n\nThe `data-paths` config\nhas been renamed.")
    assert one == "deprecated: The `data-paths` config has been renamed."
    assert warning_text("Other", SimpleNamespace(), "plain warning") == "plain warning"
