"""The deprecation lifecycle: which models are deprecated, who still uses them, and the hard drop.

Provides `Deprecation`, `deprecated_models(project, history, log_folders, today)`, `drop_refusal(d,
quiet_days, now)` (the one-line reason a drop must wait, or None), `drop_relation(warehouse, d)` and
`project_files(d)` (what to delete from the project afterwards). Reads only the manifest (no dbt).

A model is deprecated when it has a `deprecation_date`, a `deprecated` tag, or is a version with a
`deprecation_date` (dbt model versions). Its replacement is `meta.replacement` (or
`meta.replaced_by`). Reads come from `tui.core.reads` (what DuckDB lets us observe).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from tui.core.project import Project
from tui.core.reads import Read, check_reads, query_log_reads

QUIET_DAYS_ENV = "PIPELINE_TUI_DEPRECATION_QUIET_DAYS"
DEFAULT_QUIET_DAYS = 30


@dataclass(frozen=True)
class Deprecation:
    unique_id: str
    name: str  # `name`, or `name.v2` for a version
    schema: str | None
    identifier: str  # the relation's name in the warehouse
    materialized: str | None
    deprecation_date: str | None  # YYYY-MM-DD
    days_left: int | None  # negative once the date has passed
    replacement: str | None
    referenced_by: tuple[str, ...]  # models (and snapshots, seeds) that ref it
    exposures: tuple[str, ...]
    reads: tuple[Read, ...]  # newest first
    marked_by: tuple[str, ...]  # deprecation_date, tag, version
    files: tuple[str, ...]  # project files holding it (SQL, YAML)

    def to_dict(self) -> dict:
        return {"name": self.name, "deprecation_date": self.deprecation_date, "days_left": self.days_left,
                "replacement": self.replacement, "referenced_by": list(self.referenced_by),
                "exposures": list(self.exposures),
                "reads": [{"at": _iso(r.at), "via": r.via, "relation": r.relation, "detail": r.detail,
                           "holds_drop": r.holds_drop} for r in self.reads],
                "relation": f"{self.schema}.{self.identifier}" if self.schema else self.identifier,
                "marked_by": list(self.marked_by), "files": list(self.files)}


def quiet_days_setting() -> int:
    raw = os.environ.get(QUIET_DAYS_ENV, "").strip()
    try:
        return max(0, int(raw)) if raw else DEFAULT_QUIET_DAYS
    except ValueError:
        return DEFAULT_QUIET_DAYS


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def marks(raw: dict) -> tuple[str, ...]:
    found = []
    if raw.get("deprecation_date"):
        found.append("deprecation_date")
    if "deprecated" in (raw.get("tags") or []) or "deprecated" in (raw.get("config", {}).get("tags") or []):
        found.append("tag")
    if raw.get("version") is not None and raw.get("deprecation_date"):
        found.append("version")
    return tuple(found)


def deprecated_mark(node: Any, wide: bool = True) -> str:
    """What the run table appends to a deprecated model's name (empty for any other node)."""
    if node.resource_type != "model" or not (node.deprecation_date or "deprecated" in node.tags):
        return ""
    return " (deprecated)" if wide else " (depr.)"


def deprecated_models(project: Project, history: Any = None, log_folders: list[Path] | None = None,
                      today: date | None = None) -> list[Deprecation]:
    today = today or datetime.now(timezone.utc).date()
    found = []
    for uid, node in project.nodes.items():
        raw = project.raw_node(uid)
        if node.resource_type == "model" and marks(raw):
            found.append(_deprecation(project, raw, history, log_folders or [], today))
    return sorted(found, key=lambda d: (d.days_left is None, d.days_left or 0, d.name))


def _deprecation(project: Project, raw: dict, history: Any, folders: list[Path], today: date) -> Deprecation:
    uid = raw["unique_id"]
    when = str(raw.get("deprecation_date") or "")[:10] or None
    meta = {**(raw.get("config", {}).get("meta") or {}), **(raw.get("meta") or {})}
    name = raw["name"] + (f".v{raw['version']}" if raw.get("version") is not None else "")
    identifier = raw.get("alias") or raw["name"]
    schema = raw.get("schema")
    children = [project.nodes[c].name for c in project.child_map.get(uid, [])
                if c in project.nodes and project.nodes[c].resource_type in ("model", "snapshot", "seed")]
    exposures = [e.get("name", eid) for eid, e in project.exposures.items()
                 if uid in (e.get("depends_on", {}).get("nodes") or [])]
    reads = (check_reads(history, schema, identifier) if history is not None else []) + \
        query_log_reads(folders, schema, identifier)
    return Deprecation(uid, name, schema, identifier, raw.get("config", {}).get("materialized"), when,
                       (date.fromisoformat(when) - today).days if when else None,
                       meta.get("replacement") or meta.get("replaced_by"), tuple(sorted(children)),
                       tuple(sorted(exposures)), tuple(sorted(reads, key=lambda r: -r.at)), marks(raw),
                       _files(raw))


def _files(raw: dict) -> tuple[str, ...]:
    files = [raw.get("original_file_path") or ""]
    patch = (raw.get("patch_path") or "").split("://", 1)[-1]
    return tuple(f for f in (*files, patch) if f)


def drop_refusal(d: Deprecation, quiet_days: int, now: float | None = None) -> str | None:
    """Why the model cannot be dropped yet (one line), or None."""
    users = [*d.referenced_by, *(f"exposure {e}" for e in d.exposures)]
    if users:
        move = f" to {d.replacement}" if d.replacement else ""
        return f"{d.name} is still ref'd by {', '.join(users)}: move those refs{move} first"
    since = (now or time.time()) - quiet_days * 86400
    recent = [r for r in d.reads if r.holds_drop and r.at >= since]
    if recent:
        last = recent[0]
        return (f"{d.name} was read {len(recent)} times in the last {quiet_days} days (last {_iso(last.at)}, "
                f"{last.via}): wait until reads stop, or set --quiet-days")
    return None


def drop_relation(warehouse: Path, d: Deprecation) -> str:
    """Drop the model's table or view (one transaction); returns what was dropped."""
    from tui.core.checkpoints import hold_warehouse

    with hold_warehouse(warehouse) as conn:
        schema = d.schema or "main"
        kinds = conn.execute("SELECT 'TABLE' FROM duckdb_tables() WHERE schema_name = ? AND table_name = ? "
                             "UNION ALL SELECT 'VIEW' FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
                             [schema, d.identifier, schema, d.identifier]).fetchall()
        if not kinds:
            return f"{schema}.{d.identifier} (not in the warehouse: nothing to drop)"
        kind = kinds[0][0]
        conn.execute(f'DROP {kind} "{schema}"."{d.identifier}"')
        conn.execute("CHECKPOINT")
        return f"{kind.lower()} {schema}.{d.identifier}"


def project_files(project_dir: Path, d: Deprecation) -> list[str]:
    """What to delete by hand: the model's SQL file, and its entry (with its tests) in the YAML."""
    lines = []
    for path in d.files:
        full = project_dir / path
        if path.endswith((".yml", ".yaml")):
            lines.append(f"remove the `{d.name.split('.v')[0]}` entry from {full}")
        else:
            lines.append(f"delete {full}")
    return lines
