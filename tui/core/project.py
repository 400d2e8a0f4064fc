"""Read-only view of a parsed dbt project, from the `manifest.json` dbt writes to its target path.

Provides the nodes in DAG order grouped by layer, lineage, columns with their tests, and the
compiled SQL of a node. Nothing here imports dbt: reading a manifest costs milliseconds, so the
UI and the checks can use it before dbt is loaded.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field
from pathlib import Path

EXECUTABLE_TYPES = ("model", "seed", "snapshot", "test")
LAYER_ORDER = ("seeds", "staging", "intermediate", "marts", "snapshots", "models", "tests")


@dataclass(frozen=True)
class ColumnTest:
    unique_id: str
    test_name: str  # unique, not_null, relationships, accepted_values, or a custom generic test
    column: str | None
    kwargs: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Column:
    name: str
    description: str
    data_type: str | None


@dataclass(frozen=True)
class Node:
    unique_id: str
    name: str
    resource_type: str
    materialized: str | None
    layer: str
    description: str
    original_file_path: str
    depends_on: tuple[str, ...]
    columns: tuple[Column, ...]
    tags: tuple[str, ...]
    schema: str | None
    relation_name: str | None
    deprecation_date: str | None = None
    attached_node: str | None = None  # for tests: the node they test


class ManifestMissing(Exception):
    """No manifest.json yet: the project has not been parsed into this target path."""


class Project:
    def __init__(self, manifest: dict, target_path: Path):
        self.target_path = target_path
        self.project_name: str = manifest.get("metadata", {}).get("project_name") or ""
        self._raw_nodes: dict[str, dict] = {
            uid: n for uid, n in manifest.get("nodes", {}).items() if n.get("resource_type") in EXECUTABLE_TYPES
        }
        self.sources: dict[str, dict] = manifest.get("sources", {})
        self.parent_map: dict[str, list[str]] = manifest.get("parent_map", {})
        self.child_map: dict[str, list[str]] = manifest.get("child_map", {})
        self.exposures: dict[str, dict] = manifest.get("exposures", {})
        self.nodes: dict[str, Node] = {uid: self._to_node(raw) for uid, raw in self._raw_nodes.items()}

    def _to_node(self, raw: dict) -> Node:
        config = raw.get("config", {})
        columns = tuple(
            Column(c.get("name", name), c.get("description", ""), c.get("data_type"))
            for name, c in raw.get("columns", {}).items()
        )
        return Node(
            unique_id=raw["unique_id"],
            name=raw["name"],
            resource_type=raw["resource_type"],
            materialized=config.get("materialized"),
            layer=self._layer_of(raw),
            description=raw.get("description", ""),
            original_file_path=raw.get("original_file_path", ""),
            depends_on=tuple(raw.get("depends_on", {}).get("nodes", [])),
            columns=columns,
            tags=tuple(raw.get("tags", [])),
            schema=raw.get("schema"),
            relation_name=raw.get("relation_name"),
            deprecation_date=raw.get("deprecation_date"),
            attached_node=raw.get("attached_node"),
        )

    @staticmethod
    def _layer_of(raw: dict) -> str:
        kind = raw["resource_type"]
        if kind in ("seed", "snapshot", "test"):
            return kind + "s"
        folders = raw.get("fqn", [])[1:-1]
        for folder in folders:
            if folder in ("staging", "intermediate", "marts"):
                return folder
        return folders[0] if folders else "models"

    def in_dag_order(self, resource_types: tuple[str, ...] = EXECUTABLE_TYPES) -> list[Node]:
        """Topological order (parents first), ties broken by layer then name, so the order is stable."""
        wanted = {uid for uid, n in self.nodes.items() if n.resource_type in resource_types}
        parents = {uid: {p for p in self.nodes[uid].depends_on if p in wanted} for uid in wanted}
        children: dict[str, list[str]] = {uid: [] for uid in wanted}
        for uid, ps in parents.items():
            for p in ps:
                children[p].append(uid)
        ready = [self._sort_key(uid) for uid, ps in parents.items() if not ps]
        heapq.heapify(ready)
        ordered: list[Node] = []
        while ready:
            uid = heapq.heappop(ready)[-1]
            ordered.append(self.nodes[uid])
            for child in children[uid]:
                parents[child].discard(uid)
                if not parents[child]:
                    heapq.heappush(ready, self._sort_key(child))
        return ordered

    def _sort_key(self, uid: str) -> tuple:
        node = self.nodes[uid]
        layer_rank = LAYER_ORDER.index(node.layer) if node.layer in LAYER_ORDER else len(LAYER_ORDER)
        return (layer_rank, node.name, uid)

    def upstream(self, unique_id: str) -> list[str]:
        return sorted(self.parent_map.get(unique_id, []))

    def downstream(self, unique_id: str) -> list[str]:
        return sorted(c for c in self.child_map.get(unique_id, []) if not c.startswith("test."))

    def tests_of(self, unique_id: str) -> list[ColumnTest]:
        """Tests attached to a model, seed, snapshot or source, with their column when they have one."""
        tests = []
        for raw in self._raw_nodes.values():
            if raw["resource_type"] != "test":
                continue
            attached = raw.get("attached_node") or next(iter(raw.get("depends_on", {}).get("nodes", [])), None)
            if attached != unique_id:
                continue
            meta = raw.get("test_metadata") or {}
            tests.append(
                ColumnTest(raw["unique_id"], meta.get("name") or raw["name"], raw.get("column_name"), meta.get("kwargs", {}))
            )
        return sorted(tests, key=lambda t: (t.column or "", t.test_name))

    def compiled_sql(self, unique_id: str) -> str | None:
        """The SQL dbt compiled for this node at its last run or compile, if any."""
        raw = self._raw_nodes.get(unique_id, {})
        if raw.get("compiled_code"):
            return raw["compiled_code"]
        path = self.target_path / "compiled" / raw.get("package_name", self.project_name) / raw.get("original_file_path", "")
        return path.read_text() if path.is_file() else None

    def raw_node(self, unique_id: str) -> dict:
        """The manifest's own entry of a node (version, meta, patch_path, ...), empty when unknown."""
        return self._raw_nodes.get(unique_id, {})

    def source_sql(self, unique_id: str) -> str:
        return self._raw_nodes.get(unique_id, {}).get("raw_code", "")

    def find(self, name_or_id: str) -> Node | None:
        if name_or_id in self.nodes:
            return self.nodes[name_or_id]
        return next((n for n in self.nodes.values() if n.name == name_or_id and n.resource_type != "test"), None)


def load_project(target_path: Path) -> Project:
    manifest_path = Path(target_path) / "manifest.json"
    if not manifest_path.is_file():
        raise ManifestMissing(f"no manifest at {manifest_path}: parse or build the project first")
    return Project(json.loads(manifest_path.read_text()), Path(target_path))
