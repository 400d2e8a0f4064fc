"""The dbt lineage by the names findings use: models by name, sources as `source_name.table_name`.

Built from the manifest's parent map (tests left out). Answers how far an object sits from the raw
feeds (`depth`: sources 0, each model one more than its deepest parent), whether one object is
upstream of another, and the path between them, so a defect can be placed where it first appears.
"""

from __future__ import annotations

from collections import deque
from typing import Any


class Lineage:
    def __init__(self, parents: dict[str, set[str]], columns: dict[str, set[str]] | None = None):
        self.parents = parents
        self.columns = columns or {}  # documented columns by object (lower case)
        self.children: dict[str, set[str]] = {name: set() for name in parents}
        for name, ps in parents.items():
            for parent in ps:
                self.children.setdefault(parent, set()).add(name)
        self._depth: dict[str, int] = {}

    @classmethod
    def from_project(cls, project: Any) -> Lineage:
        names = {uid: _name(uid, project) for uid in list(project.parent_map) + list(project.sources)}
        parents: dict[str, set[str]] = {}
        for uid, ps in project.parent_map.items():
            if uid.startswith("test.") or names.get(uid) is None:
                continue
            parents[names[uid]] = {names[p] for p in ps if not p.startswith("test.") and names.get(p)}
        for uid in project.sources:
            parents.setdefault(names[uid], set())
        columns = {names[uid]: {c.lower() for c in s.get("columns", {})} for uid, s in project.sources.items()}
        columns.update({n.name: {c.name.lower() for c in n.columns} for n in project.nodes.values() if n.resource_type != "test"})
        return cls(parents, columns)

    def has_column(self, name: str, column: str | None) -> bool:
        return column is not None and column.lower() in self.columns.get(name, set())

    @classmethod
    def empty(cls) -> Lineage:
        return cls({})

    def knows(self, name: str) -> bool:
        return name in self.parents

    def depth(self, name: str) -> int:
        """Sources (and unknown objects) 0; a model one more than its deepest parent."""
        if name not in self._depth:
            self._depth[name] = 0  # guards against a cycle in a hand-made map
            self._depth[name] = 1 + max((self.depth(p) for p in self.parents.get(name, ())), default=-1)
        return self._depth[name]

    def path(self, upstream: str, downstream: str) -> list[str] | None:
        """The shortest path from `upstream` to `downstream` along the DAG (both included), or None."""
        if upstream == downstream:
            return [upstream]
        previous: dict[str, str] = {}
        queue = deque([upstream])
        while queue:
            here = queue.popleft()
            for child in sorted(self.children.get(here, ())):
                if child in previous or child == upstream:
                    continue
                previous[child] = here
                if child == downstream:
                    return _walk_back(previous, upstream, downstream)
                queue.append(child)
        return None

    def distance(self, upstream: str, downstream: str) -> int | None:
        found = self.path(upstream, downstream)
        return None if found is None else len(found) - 1


def _walk_back(previous: dict[str, str], start: str, end: str) -> list[str]:
    path = [end]
    while path[-1] != start:
        path.append(previous[path[-1]])
    return path[::-1]


def _name(uid: str, project: Any) -> str | None:
    if uid in project.sources:
        source = project.sources[uid]
        return f"{source.get('source_name')}.{source.get('name')}"
    node = project.nodes.get(uid)
    if node is not None:
        return node.name
    return uid.split(".")[-1] if uid.split(".")[0] in ("model", "seed", "snapshot") else None
