"""Read-only view of a parsed dbt project, from the `manifest.json` dbt writes to its target path.

Provides the nodes in DAG order, lineage, columns with their tests, and the compiled SQL of a node.
Each node has a layer, its place in the DAG whatever its folder (see `dag_layers`), and a group, the
project's own folder it lives in (see `group_of`); `group_order()` lists the groups in DAG order.
Nothing here imports dbt: reading a manifest costs milliseconds, so the UI and the checks can use
it before dbt is loaded.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import dataclass, field
from pathlib import Path

EXECUTABLE_TYPES = ("model", "seed", "snapshot", "test")
LAYER_ORDER = ("seeds", "staging", "intermediate", "marts", "snapshots", "tests")
FINAL = "marts"  # the layer of final models: nothing reads them, or they feed an exposure


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
    group: str = ""  # the project's folder: first folder under models/ ("models" at its root), else seeds, tests...


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
        self.layers: dict[str, str] = dag_layers(self._raw_nodes, self.sources, self.parent_map, self.child_map)
        self.nodes: dict[str, Node] = {uid: self._to_node(raw) for uid, raw in self._raw_nodes.items()}
        self._group_order: list[str] | None = None

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
            layer=self.layers[raw["unique_id"]],
            description=raw.get("description", ""),
            original_file_path=raw.get("original_file_path", ""),
            depends_on=tuple(raw.get("depends_on", {}).get("nodes", [])),
            columns=columns,
            tags=tuple(raw.get("tags", [])),
            schema=raw.get("schema"),
            relation_name=raw.get("relation_name"),
            deprecation_date=raw.get("deprecation_date"),
            attached_node=raw.get("attached_node"),
            group=group_of(raw),
        )

    def is_final(self, unique_id: str) -> bool:
        node = self.nodes.get(unique_id)
        return node is not None and node.layer == FINAL

    def group_order(self) -> list[str]:
        """The groups in DAG order: a group comes after the groups it reads from; groups that read each
        other come by their nodes' mean depth in the DAG; tests come last."""
        if self._group_order is None:
            self._group_order = order_groups(self.in_dag_order(), self.parent_map)
        return self._group_order

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

    def tested(self, test_id: str) -> tuple[str | None, str | None]:
        """(the node a test tests, its column) for a test of the manifest, else (None, None)."""
        raw = self._raw_nodes.get(test_id) or {}
        deps = [d for d in raw.get("depends_on", {}).get("nodes", []) if d in self.nodes or d in self.sources]
        attached = raw.get("attached_node") or (deps[-1] if deps else None)
        column = raw.get("column_name") or (raw.get("test_metadata") or {}).get("kwargs", {}).get("column_name")
        return attached, column

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


def dag_layers(nodes: dict[str, dict], sources: dict, parents: dict[str, list[str]],
               children: dict[str, list[str]]) -> dict[str, str]:
    """Each node's layer from its place in the DAG, not its folder: seeds, snapshots and tests by kind;
    a model is `marts` when final (no model, seed or snapshot reads it, or it feeds an exposure),
    `staging` when it reads only sources and seeds (or nothing), or one staging model, and
    `intermediate` otherwise."""
    layers: dict[str, str] = {}

    def staging(uid: str) -> bool:
        ups = parents.get(uid) or nodes[uid].get("depends_on", {}).get("nodes", [])
        if all(p in sources or nodes.get(p, {}).get("resource_type") == "seed" for p in ups):
            return True
        return len(ups) == 1 and ups[0] in nodes and nodes[ups[0]]["resource_type"] == "model" and layer(ups[0]) == "staging"

    def final(uid: str) -> bool:
        downs = children.get(uid, [])
        return any(c.startswith("exposure.") for c in downs) or not any(
            nodes.get(c, {}).get("resource_type") in ("model", "seed", "snapshot") for c in downs)

    def layer(uid: str) -> str:
        if uid not in layers:
            kind = nodes[uid]["resource_type"]
            layers[uid] = (kind + "s" if kind != "model" else FINAL if final(uid)
                           else "staging" if staging(uid) else "intermediate")
        return layers[uid]

    for uid in nodes:
        layer(uid)
    return layers


def group_of(raw: dict) -> str:
    """The project's folder a node lives in: a model's first folder under its model path (the model
    path's own name for models at its root); seeds, snapshots and tests by kind."""
    kind = raw["resource_type"]
    if kind != "model":
        return kind + "s"
    folders = raw.get("fqn", [])[1:-1]
    if folders:
        return folders[0]
    parts = Path(raw.get("original_file_path") or "models").parts
    return parts[0] if len(parts) > 1 else "models"


def order_groups(ordered: list[Node], parents: dict[str, list[str]]) -> list[str]:
    """Groups after the groups they read from (Kahn's algorithm; ties and cycles by mean depth, then name)."""
    depth: dict[str, int] = {}
    members: dict[str, list[int]] = {}
    group = {n.unique_id: n.group for n in ordered if n.resource_type != "test"}
    incoming: dict[str, set[str]] = {g: set() for g in group.values()}
    for node in ordered:
        if node.unique_id not in group:
            continue
        ups = [p for p in parents.get(node.unique_id, node.depends_on) if p in group]
        depth[node.unique_id] = 1 + max((depth[p] for p in ups), default=0)
        members.setdefault(node.group, []).append(depth[node.unique_id])
        incoming[node.group] |= {group[p] for p in ups} - {node.group}
    mean = {g: sum(ds) / len(ds) for g, ds in members.items()}
    result: list[str] = []
    while incoming:
        ready = [g for g, ins in incoming.items() if not ins] or list(incoming)  # a cycle: least deep first
        chosen = min(ready, key=lambda g: (mean[g], g))
        result.append(chosen)
        del incoming[chosen]
        for ins in incoming.values():
            ins.discard(chosen)
    return result + (["tests"] if any(n.resource_type == "test" for n in ordered) else [])


def load_project(target_path: Path) -> Project:
    manifest_path = Path(target_path) / "manifest.json"
    if not manifest_path.is_file():
        raise ManifestMissing(f"no manifest at {manifest_path}: parse or build the project first")
    return Project(json.loads(manifest_path.read_text()), Path(target_path))
