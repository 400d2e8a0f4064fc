"""The in-process session runs dbt in the project folder (relative profile paths resolve as in
`cd project && dbt build`) and gives the caller's working directory back; dbt's deprecation
summary names the deprecations."""

from __future__ import annotations

import os

import duckdb
import pytest
from dbt_shapes import JAFFLE_CUSTOMERS, make_jaffle_project

from tui.core.run_events import Warned
from tui.core.dbt_host.session import DbtSession
from tui.core.workspace import Workspace

pytestmark = pytest.mark.slow

OLD_STYLE_TEST = """          - relationships:
              to: ref('customers')
              field: customer_id"""  # arguments not under `arguments:`: deprecated in dbt 1.10+


def test_a_relative_warehouse_path_resolves_in_the_project_folder(tmp_path, monkeypatch):
    project = make_jaffle_project(tmp_path / "shop")
    schema = project / "models" / "schema.yml"
    text = schema.read_text()
    new_style = OLD_STYLE_TEST.replace("              to:", "              arguments:\n                to:").replace(
        "              field:", "                field:")
    assert new_style in text
    schema.write_text(text.replace(new_style, OLD_STYLE_TEST))
    here = tmp_path / "elsewhere"
    here.mkdir()
    monkeypatch.chdir(here)
    workspace = Workspace.resolve(workspace=tmp_path / "ws", project_dir=project)
    assert workspace.warehouse == project / "jaffle_shop.duckdb"
    events = []
    session = DbtSession(workspace)
    try:
        finished = session.invoke("build", on_event=events.append)
        assert os.getcwd() == str(here)  # given back after dbt ran
    finally:
        session.close()
    assert finished.status == "success", finished.error
    assert list(here.iterdir()) == []
    with duckdb.connect(str(project / "jaffle_shop.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from customers").fetchone()[0] == JAFFLE_CUSTOMERS
    summary = [e.message for e in events if isinstance(e, Warned) and e.code == "DeprecationsSummary"]
    assert summary and "MissingArgumentsPropertyInGenericTestDeprecation (1 occurrence)" in summary[0]
    assert "\n" not in summary[0] and not summary[0].startswith("[WARNING]")
