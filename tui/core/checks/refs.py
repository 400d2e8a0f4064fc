"""dbt-style references for the checks: resolve `ref('model')` / `source('src', 'table')` to the
relation the warehouse knows, name objects the way findings do, and walk a node's ancestors.
"""

from __future__ import annotations

import re
from functools import lru_cache

from tui.core.project import Project

_REF = re.compile(r"\{\{\s*ref\(\s*['\"]([^'\"]+)['\"]\s*\)\s*\}\}")
_SOURCE = re.compile(r"\{\{\s*source\(\s*['\"]([^'\"]+)['\"]\s*,\s*['\"]([^'\"]+)['\"]\s*\)\s*\}\}")
_PARAM = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_BARE_REF = re.compile(r"ref\(\s*['\"]([^'\"]+)['\"]\s*\)")


class UnknownReference(Exception):
    """A rule refers to a model or source this project does not have."""


def object_name(project: Project, unique_id: str) -> str:
    if unique_id in project.sources:
        raw = project.sources[unique_id]
        return f"{raw.get('source_name')}.{raw.get('name')}"
    node = project.nodes.get(unique_id)
    return node.name if node else unique_id.split(".")[-1]


def relation_of(project: Project, name: str) -> str:
    node = project.find(name)
    if node is None or not node.relation_name:
        raise UnknownReference(f"ref('{name}') is not a model of this project")
    return node.relation_name


def source_relation(project: Project, source_name: str, table: str) -> str:
    for raw in project.sources.values():
        if raw.get("source_name") == source_name and raw.get("name") == table and raw.get("relation_name"):
            return raw["relation_name"]
    raise UnknownReference(f"source('{source_name}', '{table}') is not a source of this project")


def render(sql: str, project: Project, params: dict | None = None) -> str:
    """Replace {{ ref('x') }}, {{ source('s', 't') }} and {{ param }} (from `params`)."""
    sql = _REF.sub(lambda m: relation_of(project, m.group(1)), sql)
    sql = _SOURCE.sub(lambda m: source_relation(project, m.group(1), m.group(2)), sql)
    values = params or {}

    def param(match: re.Match) -> str:
        if match.group(1) not in values:
            raise UnknownReference(f"no value for {{{{ {match.group(1)} }}}}")
        return str(values[match.group(1)])

    return _PARAM.sub(param, sql)


def referenced_model(text: str | None) -> str | None:
    """`ref('stg_x')` (as in a relationships test's `to`) -> `stg_x`."""
    match = _BARE_REF.search(text or "")
    return match.group(1) if match else None


def ancestors(project: Project, unique_id: str) -> set[str]:
    @lru_cache(maxsize=None)
    def walk(uid: str) -> frozenset[str]:
        found: set[str] = set()
        for parent in project.parent_map.get(uid, []):
            found.add(parent)
            found |= walk(parent)
        return frozenset(found)

    return set(walk(unique_id))
