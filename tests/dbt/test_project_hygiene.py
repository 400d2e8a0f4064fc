"""Style and docs: every model and column described, contracts on marts, docs generate is clean."""

from __future__ import annotations

import json

import jinja2
import jinja2.nodes
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def manifest(baseline) -> dict:
    return json.loads((baseline.root / "target" / "manifest.json").read_text())


def _models(manifest):
    return [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]


def test_every_model_and_column_is_described(manifest):
    for node in _models(manifest) + list(manifest["sources"].values()):
        assert node["description"].strip(), node["unique_id"]
        assert node["columns"], node["unique_id"]
        for name, column in node["columns"].items():
            assert column["description"].strip(), f"{node['unique_id']}.{name}"


def test_marts_enforce_contracts_and_source_is_only_used_in_staging(manifest):
    for node in _models(manifest):
        layer = node["fqn"][1]
        if layer == "marts":
            assert node["config"]["contract"]["enforced"], node["name"]
        if node["depends_on"]["nodes"] and any(d.startswith("source.") for d in node["depends_on"]["nodes"]):
            assert layer == "staging", node["name"]


def test_every_macro_and_its_arguments_are_described(manifest):
    macros = [m for m in manifest["macros"].values() if m["package_name"] == "pipeline_tui"]
    assert len(macros) > 30
    env = jinja2.Environment(extensions=["jinja2.ext.do"])
    for macro in macros:
        sql = macro["macro_sql"].replace("{% test ", "{% macro ").replace("{% endtest %}", "{% endmacro %}")
        signature = next(env.parse(sql).find_all(jinja2.nodes.Macro))
        assert macro["description"].strip(), macro["name"]
        assert [a["name"] for a in macro["arguments"]] == [a.name for a in signature.args], macro["name"]
        assert all(a["description"].strip() for a in macro["arguments"]), macro["name"]


def test_every_model_has_a_grain_test(manifest):
    tested = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "test" and node.get("test_metadata", {}).get("name") in (
                "unique", "unique_combination_of_columns"):
            tested.setdefault(node["attached_node"], []).append(node["name"])
    assert [m["name"] for m in _models(manifest) if m["unique_id"] not in tested] == []


def test_deprecated_model_is_tagged_and_dated(manifest):
    node = manifest["nodes"]["model.pipeline_tui.fct_claims_daily"]
    assert "deprecated" in node["tags"] and node["deprecation_date"]


def test_docs_generate_without_warnings(baseline):
    before = len(baseline.warnings)
    result = baseline.invoke("docs", "generate")
    assert result.success
    assert [w for w in baseline.warnings[before:] if "deprecat" not in w] == []
    catalog = json.loads((baseline.root / "target" / "catalog.json").read_text())
    assert "model.pipeline_tui.fct_claims" in catalog["nodes"]
