"""What to profile, read from the dbt project itself: sources and models with their columns, each
column's kind (numeric, temporal, text, boolean, other) from the relation's actual type, its declared
type from the YAML, whether it is categorical (accepted_values test or configured) or personal (never
shows values), the delivery column (feed file name) and the source's `loaded_at_field`.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass

from tui.core.checks.config import ChecksConfig
from tui.core.checks.sql import QueryRunner
from tui.core.project import Project

NUMERIC, TEMPORAL, TEXT, BOOLEAN, OTHER = "numeric", "temporal", "text", "boolean", "other"
_NUMERIC = re.compile(r"^(TINYINT|SMALLINT|INTEGER|INT|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT"
                      r"|FLOAT|DOUBLE|REAL|DECIMAL|NUMERIC|INT\d|FLOAT\d|NUMBER)", re.I)
_TEMPORAL = re.compile(r"^(DATE|TIMESTAMP|DATETIME)", re.I)
_TEXT = re.compile(r"^(VARCHAR|TEXT|STRING|CHAR|BPCHAR)", re.I)
MODEL_TYPES = ("model", "seed", "snapshot")


def kind_of(type_name: str | None) -> str | None:
    if not type_name:
        return None
    for kind, pattern in ((NUMERIC, _NUMERIC), (TEMPORAL, _TEMPORAL), (TEXT, _TEXT)):
        if pattern.match(type_name.strip()):
            return kind
    return BOOLEAN if type_name.strip().upper().startswith("BOOL") else OTHER


def is_integer_type(type_name: str | None) -> bool:
    return bool(type_name) and bool(re.match(r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|INT\d)\b", type_name.strip(), re.I))


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    kind: str
    actual_type: str
    declared_type: str | None = None
    categorical: bool = False
    personal: bool = False
    layer: str = ""

    @property
    def declared_kind(self) -> str | None:
        return kind_of(self.declared_type)


@dataclass(frozen=True)
class TableSpec:
    object: str  # model name, or "source_name.table_name"
    relation: str  # what goes after FROM
    layer: str
    columns: tuple[ColumnSpec, ...]
    unique_id: str | None = None
    delivery_column: str | None = None
    loaded_at: str | None = None

    def column(self, name: str) -> ColumnSpec | None:
        return next((c for c in self.columns if c.name.lower() == name.lower()), None)


def is_personal(column: str, config: ChecksConfig) -> bool:
    patterns = config.get("profile.personal_column_patterns", [])
    lowered = column.lower()
    return any(p.lower() in lowered or fnmatch.fnmatch(lowered, p.lower()) for p in patterns)


def build_spec(runner: QueryRunner, config: ChecksConfig, *, object: str, relation: str, layer: str,
               declared: dict[str, str | None], categorical: set[str], unique_id: str | None = None,
               loaded_at: str | None = None) -> TableSpec:
    """Describe the relation and combine its actual column types with what the project declares."""
    extra = {c.lower() for c in config.get("profile.categorical_columns", [])}
    declared_lower = {k.lower(): v for k, v in declared.items()}
    wanted_lower = {c.lower() for c in categorical} | extra
    columns = []
    for name, actual in runner.columns(relation):
        personal = is_personal(name, config)
        columns.append(ColumnSpec(name, kind_of(actual) or OTHER, actual, declared_lower.get(name.lower()),
                                  categorical=(name.lower() in wanted_lower) and not personal, personal=personal,
                                  layer=layer))
    delivery = next((c.name for c in columns if c.name.lower() in
                     {d.lower() for d in config.get("profile.delivery_columns", [])}), None)
    return TableSpec(object, relation, layer, tuple(columns), unique_id, delivery, loaded_at)


def project_targets(project: Project, runner: QueryRunner, config: ChecksConfig,
                    skip_missing: bool = True) -> list[TableSpec]:
    """Sources first, then models in DAG order, restricted to the configured layers (the node's place in
    the DAG, `tui.core.project.dag_layers`); final models are always profiled."""
    layers = set(config.get("profile.layers", []))
    skip = config.get("profile.skip_objects", [])
    specs: list[TableSpec] = []
    candidates = []
    if "sources" in layers:
        candidates += [source_candidate(project, raw) for raw in sorted(project.sources.values(), key=lambda s: s["unique_id"])]
    candidates += [model_candidate(project, node) for node in project.in_dag_order(MODEL_TYPES)
                   if (node.layer in layers | {"seeds", "snapshots"} or project.is_final(node.unique_id))
                   and node.materialized != "ephemeral"]
    for candidate in candidates:
        if candidate is None or any(fnmatch.fnmatch(candidate["object"], p) for p in skip):
            continue
        try:
            specs.append(build_spec(runner, config, **candidate))
        except Exception:  # noqa: BLE001 - a relation that is missing (failed or never built) is skipped
            if not skip_missing:
                raise
    return specs


def source_candidate(project: Project, raw: dict) -> dict | None:
    relation = raw.get("relation_name")
    if not relation:
        return None
    return dict(object=f"{raw.get('source_name')}.{raw.get('name')}", relation=relation, layer="sources",
                declared={name: c.get("data_type") for name, c in raw.get("columns", {}).items()},
                categorical=accepted_columns(project, raw["unique_id"]), unique_id=raw["unique_id"],
                loaded_at=raw.get("loaded_at_field"))


def model_candidate(project: Project, node) -> dict | None:
    if not node.relation_name:
        return None
    loaded_at = {raw.get("loaded_at_field") for raw in project.sources.values()} - {None}
    return dict(object=node.name, relation=node.relation_name, layer=node.layer,
                declared={c.name: c.data_type for c in node.columns},
                categorical=accepted_columns(project, node.unique_id), unique_id=node.unique_id,
                loaded_at=next(iter(sorted(loaded_at)), None))


def accepted_columns(project: Project, unique_id: str) -> set[str]:
    return {t.column for t in project.tests_of(unique_id) if t.test_name == "accepted_values" and t.column}
