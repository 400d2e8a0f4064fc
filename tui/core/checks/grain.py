"""The grain of a table (the columns that identify one of its rows), read from what the dbt project
declares, so the fan-out check never has to guess it from the data:

- a `unique` test on a column, or on an expression over columns (`column_name: "a || '-' || b"`);
- a unique-combination test (`dbt_utils.unique_combination_of_columns`,
  `dbt_expectations.expect_compound_columns_to_be_unique`, or a project test of the same name);
- a contract's `primary_key` constraint (model level, or on a column), a column `unique` constraint;
- the `unique_key` config of an incremental model (one column or a list);
- the checks configuration: `keys.grains: {object: [columns]}` (for projects that declare nothing).

`declared_grains(project, unique_id, object, config)` returns every declared grain, narrowest first.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tui.core.checks.config import ChecksConfig
from tui.core.project import Project

COMBINATION_TESTS = {"unique_combination_of_columns": "combination_of_columns",
                     "expect_compound_columns_to_be_unique": "column_list"}
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Grain:
    columns: tuple[str, ...]
    declared_by: str  # what says so: "unique test", "primary key constraint", ...; "" when inferred

    @property
    def name(self) -> str:
        return ", ".join(self.columns)


def declared_grains(project: Project, unique_id: str | None, object: str, config: ChecksConfig,
                    columns: list[str] | None = None) -> list[Grain]:
    """Every grain the project (or the checks configuration) declares for a model, seed or source;
    `columns` (the relation's actual columns) keeps only grains the relation can be checked on."""
    found: list[Grain] = []
    configured = (config.get("keys.grains", {}) or {}).get(object)
    if configured:
        found.append(Grain(tuple([configured] if isinstance(configured, str) else configured), "checks configuration"))
    if unique_id:
        found += _from_tests(project, unique_id, columns) + _from_node(project, unique_id, columns)
    known = {c.lower() for c in columns} if columns is not None else None
    unique: dict[frozenset, Grain] = {}
    for grain in found:
        key = frozenset(c.lower() for c in grain.columns)
        if grain.columns and key not in unique and (known is None or key <= known):
            unique[key] = grain
    return sorted(unique.values(), key=lambda g: len(g.columns))


def _from_tests(project: Project, unique_id: str, columns: list[str] | None) -> list[Grain]:
    grains = []
    for test in project.tests_of(unique_id):
        column = test.column or test.kwargs.get("column_name")  # a model-level test keeps it in its kwargs
        if test.test_name == "unique" and column:
            grains.append(Grain(_columns_of(str(column), columns), "unique test"))
        elif test.test_name in COMBINATION_TESTS:
            listed = test.kwargs.get(COMBINATION_TESTS[test.test_name]) or []
            if isinstance(listed, (list, tuple)):
                grains.append(Grain(tuple(str(c) for c in listed), f"{test.test_name} test"))
    return grains


def _columns_of(column_name: str, columns: list[str] | None) -> tuple[str, ...]:
    """A plain column, or the columns an expression such as `a || '-' || b` is made of."""
    if _IDENTIFIER.fullmatch(column_name.strip().strip('"')) or columns is None:
        return (column_name.strip().strip('"'),)
    known = {c.lower(): c for c in columns}
    without_literals = re.sub(r"'[^']*'", " ", column_name)
    names = [known[w.lower()] for w in _IDENTIFIER.findall(without_literals) if w.lower() in known]
    return tuple(dict.fromkeys(names))


def _from_node(project: Project, unique_id: str, columns: list[str] | None) -> list[Grain]:
    raw = _raw_node(project, unique_id)
    grains = []
    for constraint in raw.get("constraints") or []:
        if constraint.get("type") in ("primary_key", "unique") and constraint.get("columns"):
            grains.append(Grain(tuple(constraint["columns"]), f"{constraint['type'].replace('_', ' ')} constraint"))
    for name, column in (raw.get("columns") or {}).items():
        for constraint in column.get("constraints") or []:
            if constraint.get("type") in ("primary_key", "unique"):
                grains.append(Grain((column.get("name") or name,), f"{constraint['type'].replace('_', ' ')} constraint"))
    config = raw.get("config") or {}
    key = config.get("unique_key")
    if key and config.get("materialized") == "incremental":  # a snapshot's unique_key is not its grain
        grains.append(Grain(_columns_of(key, columns) if isinstance(key, str) else tuple(key), "unique_key config"))
    return grains


def _raw_node(project: Project, unique_id: str) -> dict:
    """The manifest entry (the project view keeps no constraints or config; read, never changed)."""
    return getattr(project, "_raw_nodes", {}).get(unique_id) or project.sources.get(unique_id) or {}
