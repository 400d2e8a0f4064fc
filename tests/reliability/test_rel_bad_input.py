"""Bad input through the headless CLI: one line naming the file (and line), exit code 2, no
traceback, the warehouse untouched and the failed run in history.

Project problems use a tiny dbt project (seconds per command); missing raw feeds use a copy of
the built embedded workspace.
"""

from __future__ import annotations

import shutil

import pytest

from rel_helpers import cli, copy_workspace, error_lines, history_runs, invoke, relation_counts
from tiny_dbt import TINY_ROWS
from tui.core.workspace import Workspace

RAW_DBT_HEADERS = ("Runtime Error in", "Compilation Error in", "Encountered an error", "Database Error in")


def assert_one_line_error(done, code: int, *needles: str) -> str:
    """Exit code, a single `error:` line holding every needle, no traceback or raw dbt header."""
    assert done.returncode == code, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    lines = error_lines(done.stderr)
    assert len(lines) == 1, done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    assert "Traceback" not in done.stderr + done.stdout
    noise = [ln for ln in done.stderr.splitlines() if ln.strip().startswith(RAW_DBT_HEADERS)]
    assert noise == [], noise
    return lines[0]


@pytest.fixture(scope="module")
def tiny_built(rel_tiny, tmp_path_factory) -> Workspace:
    """The tiny project built once: later tests check that bad input leaves its tables alone."""
    root = tmp_path_factory.mktemp("rel_bad_input")
    project = root / "project"
    shutil.copytree(rel_tiny, project)
    workspace = Workspace.resolve(workspace=root / "ws", project_dir=project, profiles_dir=project)
    done = invoke(workspace, "build")
    assert done.returncode == 0, done.stderr
    return workspace


def broken_copy(workspace: Workspace, dest, files: dict[str, str | None]) -> Workspace:
    """A copy of the project and workspace with files written (text) or removed (None)."""
    shutil.copytree(workspace.project_dir, dest / "project", ignore=shutil.ignore_patterns("target", "logs"))
    shutil.copytree(workspace.root, dest / "ws")
    for rel, text in files.items():
        path = dest / "project" / rel
        if text is None:
            path.unlink()
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    return Workspace(dest / "ws", dest / "project", dest / "project", None, False)


def assert_failed_run_recorded(workspace: Workspace, line: str) -> None:
    latest = history_runs(workspace)[0]
    assert latest.status == "error" and latest.error and latest.error in line


def assert_tiny_tables_intact(workspace: Workspace) -> None:
    counts = relation_counts(workspace)
    assert counts["fct_items"] == TINY_ROWS and counts["fct_items_inc"] == TINY_ROWS


def test_broken_profiles_yml_names_the_file_and_line(tiny_built, tmp_path):
    ws = broken_copy(tiny_built, tmp_path, {"profiles.yml": "tiny:\n  target: dev\n  outputs: [unclosed\n"})
    line = assert_one_line_error(invoke(ws, "build"), 2, f"{ws.profiles_dir / 'profiles.yml'}", "line")
    assert_failed_run_recorded(ws, line)
    assert_tiny_tables_intact(ws)


def test_missing_profiles_yml_says_where_it_looked(tiny_built, tmp_path):
    ws = broken_copy(tiny_built, tmp_path, {"profiles.yml": None})
    home = tmp_path / "home"  # no ~/.dbt there
    home.mkdir()
    done = invoke(ws, "build", env={"HOME": str(home), "DBT_PROFILES_DIR": None}, profiles=False)
    assert_one_line_error(done, 2, "profiles.yml", "--profiles-dir")
    assert_tiny_tables_intact(ws)


def test_unknown_target_lists_the_valid_ones(tiny_built):
    line = assert_one_line_error(invoke(tiny_built, "--target", "nope", "build"), 2, "no target 'nope'", "valid: dev", "--target")
    assert_failed_run_recorded(tiny_built, line)
    assert_tiny_tables_intact(tiny_built)


@pytest.mark.parametrize("name, sql, needles", [
    ("bad_sql", "select id,, from {{ ref('stg_items') }}\n", ("models/marts/bad_sql.sql", "syntax error")),
    ("bad_jinja", "select 1 as a\n{% if %}\n", ("models/marts/bad_jinja.sql line 2",)),
    ("bad_macro", "select 1 as a\n\n{{ no_such_macro() }}\n", ("models/marts/bad_macro.sql", "no_such_macro")),
])
def test_sql_or_jinja_error_in_a_model_names_the_file(tiny_built, tmp_path, name, sql, needles):
    ws = broken_copy(tiny_built, tmp_path, {f"models/marts/{name}.sql": sql})
    line = assert_one_line_error(invoke(ws, "build"), 2, *needles)
    assert_failed_run_recorded(ws, line)
    assert_tiny_tables_intact(ws)


def test_unknown_selector_is_one_line(tiny_built):
    line = assert_one_line_error(invoke(tiny_built, "build", "-s", "no_such_model+"), 2,
                                 "nothing matches the selector 'no_such_model+'")
    assert_failed_run_recorded(tiny_built, line)


@pytest.mark.parametrize("remove, needle, model, run", [
    ("employees.csv", "employees.csv", "base_benefits__employees", cli),  # one real subprocess end to end
    ("claims", "claims/*.jsonl", "base_benefits__claims", invoke),
])
def test_missing_raw_file_or_folder_names_it(rel_built, rel_reference, tmp_path, remove, needle, model, run):
    ws = copy_workspace(rel_built, tmp_path)
    target = ws.raw_dir / remove
    shutil.rmtree(target) if target.is_dir() else target.unlink()
    line = assert_one_line_error(run(ws, "build", "-s", f"{model}+"), 2, needle, str(ws.raw_dir))
    assert_failed_run_recorded(ws, line)
    shutil.copytree(rel_built.raw_dir, ws.raw_dir, dirs_exist_ok=True)  # the views read the feeds again
    assert relation_counts(ws) == rel_reference  # nothing dropped or half-written
