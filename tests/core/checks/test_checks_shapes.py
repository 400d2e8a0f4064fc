"""Triage on projects shaped like users' (tests/dbt_shapes.py), built by `pipeline-tui build` from
the project folder: the final models (jaffle's root-level `customers` / `orders`, the medallion's
`dim_*`) are profiled and key-checked; layers and run-table groups follow the DAG with the project's
own folders; a failing accepted_values test and an errored model are fail findings; the demo's
claims rules are skipped, never passes. Expected values come from dbt's manifest and
run_results.json and from straight SQL, never from pipeline-tui."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from dbt_shapes import JAFFLE_STATUSES, make_jaffle_project, make_medallion_project, run_plain_dbt

from tui.core.checks.config import bundled_checks_dir
from tui.core.checks.report import findings_json, markdown
from tui.core.checks.triage import run_triage
from tui.core.project import load_project
from tui.core.run_view import RunView
from tui.core.workspace import Workspace

pytestmark = pytest.mark.slow
CLI = [sys.executable, "-c", "from tui.cli import main; main()"]
ACCEPTED = ("placed", "shipped", "completed", "return_pending", "returned")


def build(project: Path, ws_root: Path, ok: bool = True) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    done = subprocess.run([*CLI, "--project-dir", str(project), "--profiles-dir", str(project), "--workspace", str(ws_root),
                           "build"], cwd=project, capture_output=True, text=True, env=env, timeout=600)
    assert (done.returncode == 0) == ok, done.stdout[-2000:] + done.stderr[-2000:]


def workspace(project: Path, ws_root: Path) -> Workspace:
    return Workspace.resolve(workspace=ws_root, project_dir=project, profiles_dir=project)


def manifest(ws: Workspace) -> dict:
    return json.loads(ws.manifest_path.read_text())


def run_results(ws: Workspace) -> dict[str, dict]:
    return {r["unique_id"]: r for r in json.loads((ws.target_path / "run_results.json").read_text())["results"]}


def triage(ws: Workspace, tmp: Path):
    session, playbook = run_triage(ws, session_path=tmp / "session.json")
    return session, findings_json(session), markdown(session, playbook)


@pytest.fixture(scope="module")
def jaffle(tmp_path_factory):
    root = tmp_path_factory.mktemp("jaffle")
    project = make_jaffle_project(root / "jaffle_shop")
    build(project, root / "ws")
    ws = workspace(project, root / "ws")
    return ws, *triage(ws, root)


@pytest.fixture(scope="module")
def medallion(tmp_path_factory):
    root = tmp_path_factory.mktemp("medallion")
    project = make_medallion_project(root / "medallion")
    # a report model that declares no grain: every key it carries repeats by design
    (project / "models" / "marts" / "rpt_product_quantities.sql").write_text(
        "select product_key, order_date_id, quantity from {{ ref('fct_sales') }}\n")
    build(project, root / "ws")
    ws = workspace(project, root / "ws")
    return ws, *triage(ws, root)


def final_models(data: dict) -> set[str]:
    """Models nothing builds from (dbt's own child_map), or feeding an exposure."""
    nodes = data["nodes"]
    return {n["name"] for uid, n in nodes.items() if n["resource_type"] == "model" and (
        not any(c.split(".")[0] in ("model", "seed", "snapshot") for c in data["child_map"].get(uid, []))
        or any(c.startswith("exposure.") for c in data["child_map"].get(uid, [])))}


def unique_tested(data: dict) -> set[tuple[str, str]]:
    nodes = data["nodes"]
    return {(nodes[n["attached_node"]]["name"], n["column_name"]) for n in nodes.values()
            if n["resource_type"] == "test" and (n.get("test_metadata") or {}).get("name") == "unique"}


@pytest.mark.parametrize("shape", ["jaffle", "medallion"])
def test_final_models_are_profiled_and_key_checked(shape, request):
    ws, _, report, _ = request.getfixturevalue(shape)
    data = manifest(ws)
    finals = final_models(data)
    assert {"customers", "orders"} <= finals if shape == "jaffle" else {"dim_customers", "dim_dates"} <= finals
    profiled = {f["object"] for f in report["findings"] if f["check"] == "profile"}
    assert finals <= profiled
    keyed = {(f["object"], f["column"]): f for f in report["findings"] if f["check"] == "keys.duplicates"}
    dims = {m for m in (n["name"] for n in data["nodes"].values()) if m.startswith("dim_")}
    expected = {(m, c) for m, c in unique_tested(data) if m in finals | dims}
    assert expected and expected <= set(keyed)
    warehouse = duckdb.connect(str(ws.project_dir / ("jaffle_shop.duckdb" if shape == "jaffle" else "data/medallion.duckdb")),
                               read_only=True)
    try:
        for model, column in expected:
            repeated = warehouse.execute(f"select count(*) from (select {column} from {model} where {column} is not null "
                                         f"group by 1 having count(*) > 1)").fetchone()[0]
            assert keyed[(model, column)]["evidence"]["duplicated_keys"] == repeated == 0
            assert keyed[(model, column)]["status"] == "pass"
    finally:
        warehouse.close()


@pytest.mark.parametrize("shape, groups", [("jaffle", ["seeds", "staging", "models", "tests"]),
                                           ("medallion", ["staging", "dimensions", "marts", "tests"])])
def test_layers_and_groups_follow_the_dag_with_the_projects_folders(shape, groups, request):
    ws = request.getfixturevalue(shape)[0]
    data = manifest(ws)
    project = load_project(ws.target_path)
    view = RunView(project)
    assert [g for g, _ in view.groups()] == groups
    folder = {uid: ("seeds" if n["resource_type"] == "seed" else "tests" if n["resource_type"] == "test"
                    else Path(n["original_file_path"]).parts[1] if len(Path(n["original_file_path"]).parts) > 2 else "models")
              for uid, n in data["nodes"].items() if n["resource_type"] in ("model", "seed", "test")}
    for group, states in view.groups():
        assert {s.node.unique_id for s in states} == {uid for uid, g in folder.items() if g == group}
    order = [s.node.unique_id for _, states in view.groups() for s in states]
    for child, parents in data["parent_map"].items():
        for parent in parents:
            if child in order and parent in order and not child.startswith("test."):
                assert order.index(parent) < order.index(child), (parent, child)
    finals = final_models(data)
    # not final: staging models read only sources or seeds, or one staging model (dim_products: stg_products)
    inner = {"jaffle": {"stg_customers": "staging", "stg_orders": "staging", "stg_payments": "staging"},
             "medallion": {"stg_customers": "staging", "stg_products": "staging", "stg_sales": "staging",
                           "dim_products": "staging", "fct_sales": "intermediate"}}[shape]
    layers = {n["name"]: project.nodes[uid].layer for uid, n in data["nodes"].items() if n["resource_type"] == "model"}
    assert layers == {**{m: "marts" for m in finals}, **inner}


@pytest.mark.parametrize("shape", ["jaffle", "medallion"])
def test_the_demo_claims_rules_are_skipped_not_passed(shape, request):
    _, _, report, text = request.getfixturevalue(shape)
    demo_rules = {f"{r.get('family', 'business')}.{r['id']}"
                  for r in yaml.safe_load((bundled_checks_dir() / "rules" / "benefits.yml").read_text())["rules"]}
    skipped = [s["check"] for s in report["skipped"]]
    assert demo_rules <= set(skipped) and len(skipped) == len(set(skipped))  # each listed once
    assert not [f for f in report["findings"] if f["check"] in demo_rules or "not applicable" in f["summary"]]
    assert "## Skipped" in text and text.count("business.no_negative_amounts") == 1


def test_a_clean_build_has_passing_results_and_no_fan_out_contradiction(medallion):
    ws, _, report, _ = medallion
    results = [f for f in report["findings"] if f["check"].startswith("results.")]
    assert [(f["check"], f["status"]) for f in results] == [("results.run", "pass")]
    fan_out = {f["object"]: f for f in report["findings"] if f["check"] == "keys.fan_out"}
    warehouse = duckdb.connect(str(ws.project_dir / "data" / "medallion.duckdb"), read_only=True)
    try:
        rows, products = warehouse.execute("select count(*), count(distinct product_key) from rpt_product_quantities").fetchone()
    finally:
        warehouse.close()
    found = fan_out["rpt_product_quantities"]
    assert found["evidence"]["rows_per_key"] == pytest.approx(rows / products) and rows / products > 1
    assert "one row per" not in found["summary"] and found["evidence"]["grain_key"] is None
    for f in fan_out.values():  # a pass never claims one row per key while it counts several
        assert ("one row per" in f["summary"]) == (f["evidence"]["rows_per_key"] <= 1.0), f["summary"]


def test_a_failing_accepted_values_test_fails_the_triage(jaffle, tmp_path):
    ws, *_ = jaffle
    project = tmp_path / "jaffle_shop"
    shutil.copytree(ws.project_dir, project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb*"))
    orders = project / "seeds" / "raw_orders.csv"
    lines = orders.read_text().splitlines()
    lines[1:6] = [line.rsplit(",", 1)[0] + ",lost" for line in lines[1:6]]  # a status the tests do not accept
    orders.write_text("\n".join(lines) + "\n")
    build(project, tmp_path / "ws", ok=False)
    broken = workspace(project, tmp_path / "ws")
    _, report, text = triage(broken, tmp_path)
    raw = duckdb.connect().execute(f"select count(*) from read_csv('{orders}') where status not in {ACCEPTED}").fetchone()[0]
    assert raw == 5 and "lost" not in JAFFLE_STATUSES
    dbt_results = run_results(broken)
    failed_tests = {uid for uid, r in dbt_results.items() if uid.startswith("test.") and r["status"] == "fail"}
    findings = {f["evidence"]["unique_id"]: f for f in report["findings"] if f["check"] == "results.test"}
    assert failed_tests and set(findings) == failed_tests
    data = manifest(broken)
    for uid in failed_tests:
        test = data["nodes"][uid]
        f = findings[uid]
        assert f["status"] == "fail" and f["object"] == data["nodes"][test["attached_node"]]["name"]
        assert f["column"] == test["column_name"] and f["evidence"]["failures"] == dbt_results[uid]["failures"]
    accepted = [f for f in findings.values() if f["evidence"]["test"] == "accepted_values"]
    assert [(f["object"], f["column"], f["evidence"]["failures"]) for f in accepted] == [("stg_orders", "status", 1)]
    skipped = {uid.split(".")[-1] for uid, r in dbt_results.items() if uid.startswith("model.") and r["status"] == "skipped"}
    assert skipped and skipped == {f["object"] for f in report["findings"] if f["check"] == "results.model"}
    assert report["counts"]["fail"] >= len(failed_tests) and "No check failed or warned" not in text
    assert "lost" not in json.dumps(report)


def test_an_errored_model_fails_the_triage(medallion, tmp_path):
    ws, *_ = medallion
    project = tmp_path / "medallion"
    shutil.copytree(ws.project_dir, project, ignore=shutil.ignore_patterns("target", "logs"))
    model = project / "models" / "dimensions" / "dim_products.sql"
    model.write_text(model.read_text().replace("list_price from", "list_price, cast(product_name as integer) as broken from"))
    build(project, tmp_path / "ws", ok=False)
    broken = workspace(project, tmp_path / "ws")
    _, report, text = triage(broken, tmp_path)
    dbt_results = run_results(broken)
    errored = {uid.split(".")[-1] for uid, r in dbt_results.items() if uid.startswith("model.") and r["status"] == "error"}
    assert errored == {"dim_products"}
    models = {f["object"]: f for f in report["findings"] if f["check"] == "results.model"}
    assert models["dim_products"]["status"] == "fail" and models["dim_products"]["column"] is None
    assert models["dim_products"]["evidence"]["status"] == "error"
    message = models["dim_products"]["evidence"]["message"]
    assert message and "Conversion Error" in message and "'P1'" not in message  # dbt's words, not the data value
    skipped = {uid.split(".")[-1] for uid, r in dbt_results.items() if uid.startswith("model.") and r["status"] == "skipped"}
    assert skipped and {m: f["status"] for m, f in models.items() if m != "dim_products"} == {m: "warn" for m in skipped}
    assert report["counts"]["fail"] >= 1 and "No check failed or warned" not in text


STALE_SOURCES = """version: 2
sources:
  - name: raw
    schema: raw
    tables:
      - name: customers
      - name: products
      - name: sales
        loaded_at_field: "cast(sale_date as timestamp)"
        config:
          freshness: {warn_after: {count: 1, period: day}}
"""


def test_a_stale_source_of_the_freshness_run_before_the_build_is_a_finding(medallion, tmp_path):
    ws, *_ = medallion
    project = tmp_path / "medallion"
    shutil.copytree(ws.project_dir, project, ignore=shutil.ignore_patterns("target", "logs"))
    (project / "models" / "staging" / "_sources.yml").write_text(STALE_SOURCES)
    plain = run_plain_dbt(project, "source", "freshness")  # the reference: dbt's own verdict
    expected = {r["unique_id"]: r["status"] for r in json.loads((project / "target" / "sources.json").read_text())["results"]}
    assert expected == {"source.medallion.raw.sales": "warn"}, plain.stdout[-1500:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    subprocess.run([*CLI, "--project-dir", str(project), "--profiles-dir", str(project), "--workspace", str(tmp_path / "ws"),
                    "freshness"], cwd=project, capture_output=True, text=True, env=env, timeout=600)
    build(project, tmp_path / "ws")
    _, report, _ = triage(workspace(project, tmp_path / "ws"), tmp_path)
    fresh = [(f["object"], f["column"], f["status"]) for f in report["findings"] if f["check"] == "results.freshness"]
    assert fresh == [("raw.sales", None, "warn")]  # an expression is no column


def test_messages_keep_dbts_words_without_quoted_values():
    from tui.core.checks.results import masked

    assert masked("Conversion Error: Could not convert string 'Jane Doe' to INT32\n  LINE 1: select 'Jane'") == \
        "Conversion Error: Could not convert string '…' to INT32 LINE …"
    assert masked('Duplicate key "employee_id: 42" violates primary key') == "Duplicate key '…' violates primary key"
    assert masked("Key (email)=(x@example.com) already exists") == "Key (email)'…' already exists"
    assert masked(None) is None and len(masked("x" * 1000)) == 300
