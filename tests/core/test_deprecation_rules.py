"""Which models count as deprecated, from a manifest shaped like dbt's (versions, tags, exposures),
and the drop rule's reasons. The manifest is written out by hand, so the expected values are plain."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

from tui.core.deprecations import deprecated_models, drop_refusal
from tui.core.project import Project
from tui.core.reads import Read


def _model(name: str, version=None, deprecation_date=None, tags=(), meta=None, parents=()) -> dict:
    uid = f"model.shop.{name}" + (f".v{version}" if version is not None else "")
    return {uid: {"unique_id": uid, "name": name, "resource_type": "model", "version": version,
                  "deprecation_date": deprecation_date, "tags": list(tags), "fqn": ["shop", "marts", name],
                  "config": {"materialized": "table", "meta": meta or {}}, "schema": "main", "alias": name,
                  "original_file_path": f"models/{name}.sql", "patch_path": "shop://models/_models.yml",
                  "depends_on": {"nodes": list(parents)}}}


def manifest() -> dict:
    nodes = {**_model("orders", version=1, deprecation_date="2027-01-31T00:00:00+00:00"),
             **_model("orders", version=2), **_model("legacy_items", tags=["deprecated"], meta={"replacement": "items"}),
             **_model("items"), **_model("report", parents=["model.shop.legacy_items"])}
    child_map = {"model.shop.legacy_items": ["model.shop.report"]}
    exposures = {"exposure.shop.board": {"name": "board", "depends_on": {"nodes": ["model.shop.orders.v1"]}}}
    return {"metadata": {"project_name": "shop"}, "nodes": nodes, "child_map": child_map, "exposures": exposures}


def test_deprecated_versions_tags_and_dates(tmp_path: Path):
    found = deprecated_models(Project(manifest(), tmp_path), today=date(2027, 1, 1))
    assert [(d.name, d.deprecation_date, d.days_left, d.replacement, d.marked_by) for d in found] == [
        ("orders.v1", "2027-01-31", 30, None, ("deprecation_date", "version")),
        ("legacy_items", None, None, "items", ("tag",)),
    ]
    assert found[0].exposures == ("board",) and found[1].referenced_by == ("report",)
    assert "exposure board" in drop_refusal(found[0], 30) and "report" in drop_refusal(found[1], 30)


def test_recent_reads_hold_a_drop_and_checks_reads_do_not(tmp_path: Path):
    legacy = deprecated_models(Project(manifest(), tmp_path))[1]
    now = time.time()
    free = legacy.__class__(**{**legacy.__dict__, "referenced_by": ()})
    checks = free.__class__(**{**free.__dict__, "reads": (Read(now - 60, "pipeline-tui check", "main.legacy_items",
                                                                "fan-out of legacy_items", False),)})
    assert drop_refusal(checks, 30, now) is None
    used = free.__class__(**{**free.__dict__, "reads": (Read(now - 5 * 86400, "DuckDB query log", "legacy_items",
                                                              "a query on legacy_items", True),)})
    assert "read 1 times in the last 30 days" in drop_refusal(used, 30, now)
    assert drop_refusal(used, 3, now) is None
