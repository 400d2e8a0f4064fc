"""Users' project shapes (tests/dbt_shapes.py), every command run from another folder.

The warehouse must land exactly where plain `cd project && dbt build` puts it (found by running
plain dbt in a copy), hold the same tables and rows, and nothing may be written to the folder
pipeline-tui is started from, except what the user asked for there (`--workspace ws`, reports).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from dbt_shapes import JAFFLE_ORDERS, MEDALLION_SALES, make_jaffle_project, make_medallion_project, run_plain_dbt

pytestmark = pytest.mark.slow


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`pipeline-tui ARGS` in `cwd`, with no pipeline-tui or dbt settings from the test's environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIPELINE_TUI_", "DBT_"))}
    env.update(DO_NOT_TRACK="1")
    return subprocess.run([sys.executable, "-c", "from tui.cli import main; main()", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def ok(done: subprocess.CompletedProcess, codes: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    assert done.returncode in codes, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    return done


def duckdb_files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*.duckdb")}


def table_rows(path: Path) -> dict[str, int]:
    """Rows of every table and view, by schema-less name (straight SQL on the file)."""
    with duckdb.connect(str(path), read_only=True) as con:
        names = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
        return {name: con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0] for schema, name in names}


def plain_dbt_reference(root: Path, make) -> tuple[set[str], dict[str, int]]:
    """Where plain dbt, run in the project folder, puts the warehouse, and what it holds."""
    reference = make(root / "reference")
    done = run_plain_dbt(reference, "build")
    assert done.returncode == 0, done.stdout[-2000:]
    files = duckdb_files(reference)
    assert len(files) == 1, files
    return files, table_rows(reference / next(iter(files)))


def test_jaffle_shop_from_another_folder_builds_where_plain_dbt_does(tmp_path):
    files, reference_rows = plain_dbt_reference(tmp_path, make_jaffle_project)
    assert files == {"jaffle_shop.duckdb"}  # the profile's relative path, from the project folder
    project = make_jaffle_project(tmp_path / "shop")
    here = tmp_path / "elsewhere"
    here.mkdir()
    where = ("--project-dir", "../shop", "--workspace", "ws")  # relative: resolved from here, not from the project
    ok(cli(here, *where, "build"))
    assert duckdb_files(project) == files
    assert table_rows(project / "jaffle_shop.duckdb") == reference_rows
    assert reference_rows["orders"] == JAFFLE_ORDERS

    ok(cli(here, *where, "test"))
    runs = json.loads(ok(cli(here, *where, "history", "--json")).stdout)
    assert [(r["command"], r["status"]) for r in runs] == [("test", "success"), ("build", "success")]
    imported = ok(cli(here, *where, "history", "import", "../reference/target/run_results.json"))  # plain dbt's run
    assert "imported run" in imported.stdout and "(build, success, 23 nodes)" in imported.stdout
    checked = ok(cli(here, *where, "check", "--json"), codes=(0, 1))
    assert json.loads(checked.stdout)["findings"]
    ok(cli(here, *where, "triage", "--report", "report.md", "--json", "findings.json"), codes=(0, 1))
    findings = json.loads((here / "findings.json").read_text())["findings"]
    profiled = [f["summary"] for f in findings if f["check"] == "profile" and f["object"] == "stg_orders"]
    assert profiled and f"{JAFFLE_ORDERS} rows" in profiled[0]  # read from the warehouse dbt built

    assert sorted(p.name for p in here.iterdir()) == ["findings.json", "report.md", "ws"]
    # the only DuckDB files here are rollback checkpoints, in the workspace the command was given
    assert all(f.startswith("ws/checkpoints/") for f in duckdb_files(here))
    assert not (project / "target").exists() and not (project / "logs").exists()  # dbt's stay in the workspace


def test_medallion_with_a_loader_made_source_builds_from_another_folder(tmp_path):
    files, reference_rows = plain_dbt_reference(tmp_path, make_medallion_project)
    assert files == {"data/medallion.duckdb"}
    project = make_medallion_project(tmp_path / "medallion")  # its loader ran in the project folder
    here = tmp_path / "elsewhere"
    here.mkdir()
    where = ("--project-dir", str(project), "--workspace", str(tmp_path / "ws"))
    ok(cli(here, *where, "build"))  # the sources are found: the warehouse is the loader's file
    assert duckdb_files(project) == files
    rows = table_rows(project / "data" / "medallion.duckdb")
    assert rows == reference_rows and rows["fct_sales"] == MEDALLION_SALES
    ok(cli(here, *where, "check"), codes=(0, 1))
    assert list(here.iterdir()) == []


def test_a_profile_whose_adapter_is_not_installed_names_the_package(tmp_path):
    import importlib.util

    assert importlib.util.find_spec("dbt.adapters.postgres") is None, "this test needs a venv without dbt-postgres"
    project = make_jaffle_project(tmp_path / "shop")
    (project / "profiles.yml").write_text(
        "jaffle_shop:\n  target: dev\n  outputs:\n    dev:\n      type: postgres\n      host: localhost\n"
        "      user: shop\n      password: secret\n      port: 5432\n      dbname: shop\n      schema: public\n")
    here = tmp_path / "elsewhere"
    here.mkdir()
    where = ("--project-dir", str(project), "--workspace", str(tmp_path / "ws"))
    for command in ("build", "triage", "check"):
        done = ok(cli(here, *where, command), codes=(2,))
        line = done.stderr.strip().splitlines()[-1]
        assert "`pip install dbt-postgres`" in line and "type: postgres" in line, (command, line)
        assert "Credentials in profile" not in done.stderr and "no manifest" not in line
    assert list(here.iterdir()) == []
