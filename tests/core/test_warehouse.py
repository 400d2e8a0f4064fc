"""Read-only warehouse queries: results, parameters, a missing file, a lock held by another process."""

from __future__ import annotations

import os
import subprocess
import sys

import duckdb
import pytest

from tui.core.warehouse import Warehouse, WarehouseError, WarehouseLocked, WarehouseMissing, query

HOLDER = "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True); time.sleep(60)"


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute("create table t as select range as id, range % 3 as g from range(10)")
    conn.close()
    return path


def test_query_returns_columns_and_rows_with_parameters(warehouse):
    columns, rows = query(warehouse, "select g, count(*) as n from t where id >= ? group by g order by g", [4])
    assert columns == ["g", "n"] and rows == [(0, 2), (1, 2), (2, 2)]
    with Warehouse(warehouse) as wh:
        assert wh.query("select current_setting('enable_progress_bar')")[1] == [(False,)]
        with pytest.raises(WarehouseError):
            wh.query("create table x (a int)")  # read-only


def test_missing_warehouse_says_what_to_do(tmp_path):
    with pytest.raises(WarehouseMissing, match="pipeline-tui build"):
        query(tmp_path / "none.duckdb", "select 1")


def test_a_lock_names_the_pid_that_holds_it(warehouse):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(warehouse)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(WarehouseLocked) as caught:
            query(warehouse, "select 1", retries=1)
        assert caught.value.pid == holder.pid
        assert str(caught.value).startswith(f"warehouse is locked by another process (PID {holder.pid})")
    finally:
        holder.kill()
        holder.wait()
    assert query(warehouse, "select count(*) from t")[1] == [(10,)]
    assert os.path.exists(warehouse)


def test_for_workspace_reads_the_file_the_profile_target_points_at(tmp_path, monkeypatch):
    from tui.core.warehouse import for_workspace
    from tui.core.workspace import Workspace

    project = tmp_path / "shop"
    (project / "data").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: shop\nprofile: shop\n")
    (project / "profiles.yml").write_text("shop:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
                                          "      path: data/shop.duckdb\n    mem:\n      type: duckdb\n")
    with duckdb.connect(str(project / "data" / "shop.duckdb")) as con:
        con.execute("create table t as select 7 as n")
    monkeypatch.chdir(tmp_path)  # not the project folder: the relative path is still the project's
    ws = Workspace.resolve(workspace=tmp_path / "ws", project_dir=project)
    with for_workspace(ws) as wh:
        assert wh.query("select n from t")[1] == [(7,)]
    in_memory = Workspace.resolve(workspace=tmp_path / "ws", project_dir=project, target="mem")
    with pytest.raises(WarehouseMissing, match="in memory"):
        for_workspace(in_memory)
