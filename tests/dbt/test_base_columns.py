"""The base views' columns never change with the data: a feed with a line the reader cannot decode
(bytes that are not UTF-8) and a feed without one give the same columns, the documented ones.

The undecodable line is written by the test (its number counted in Python from the file)."""

from __future__ import annotations

import json

import pytest

from tui.core.generator import generate

pytestmark = pytest.mark.slow

FEEDS = {"base_benefits__companies": "companies.csv", "base_benefits__employees": "employees.csv",
         "base_benefits__enrollments": "enrollments.csv"}


def _columns(run) -> dict[str, list[str]]:
    rows = run.query("select table_name, column_name from information_schema.columns "
                     f"where table_name in ({', '.join(repr(m) for m in FEEDS)}) order by table_name, ordinal_position")
    found: dict[str, list[str]] = {}
    for table, column in rows:
        found.setdefault(table, []).append(column)
    return found


def test_base_views_keep_their_columns_with_and_without_an_undecodable_line(fresh_run):
    generate(fresh_run.raw, "baseline", size="test")
    fresh_run.build("-s", *FEEDS)
    clean = _columns(fresh_run)
    manifest = json.loads((fresh_run.root / "target" / "manifest.json").read_text())
    for model in FEEDS:
        documented = set(manifest["nodes"][f"model.pipeline_tui.{model}"]["columns"])
        assert set(clean[model]) == documented, model

    lines = {}
    for file in FEEDS.values():
        path = fresh_run.raw / file
        lines[file] = path.read_bytes().count(b"\n") + 1
        with path.open("ab") as handle:
            handle.write(b"1,caf\xe9,\xff\xfe\n")
    fresh_run.build("-s", *FEEDS)
    assert _columns(fresh_run) == clean
    for model, file in FEEDS.items():
        rejected = fresh_run.query(f"select source_line, reject_reason from {model} where reject_reason = 'invalid_utf8'")
        assert rejected == [(lines[file], "invalid_utf8")], model
