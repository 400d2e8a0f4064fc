"""Recovery after an interrupted dbt invocation: a table left half-swapped gets its previous version back.

dbt replaces a table by building `X__dbt_tmp`, renaming `X` to `X__dbt_backup`, renaming the new
table to `X`, committing, then dropping the backup. A cancel that interrupts that sequence (the
session interrupts every open query, ROLLBACK included, until dbt returns) can leave only
`X__dbt_backup`: measured on the embedded project, about one cancel in ten landing on a table's swap.
`X` is then missing until the next build, which would drop that backup first.

Provides `interrupted_swaps(rows, schemas)` (which backups have no table of their own; pure) and
`restore_interrupted_swaps(adapter, schemas)`, which renames each such backup back to `X` through the
dbt adapter (information_schema and `ALTER ... RENAME TO`, so it is not DuckDB-specific) and returns
the restored names.
"""

from __future__ import annotations

from typing import Any, Iterable

BACKUP = "__dbt_backup"


def interrupted_swaps(rows: Iterable[tuple[str, str, str, str]],
                      schemas: set[tuple[str, str]]) -> list[tuple[str, str, str, str, str]]:
    """From (catalog, schema, name, type) rows: (catalog, schema, backup name, type, name to restore)
    for every backup whose own relation is missing, in the given (database, schema) pairs."""
    wanted = {(d.lower(), s.lower()) for d, s in schemas}
    present: dict[tuple[str, str], dict[str, str]] = {}
    for catalog, schema, name, kind in rows:
        if (str(catalog).lower(), str(schema).lower()) in wanted:
            present.setdefault((catalog, schema), {})[name] = kind
    found = []
    for (catalog, schema), names in present.items():
        for name, kind in sorted(names.items()):
            base = name[: -len(BACKUP)] if name.endswith(BACKUP) else ""
            if base and base not in names:
                found.append((catalog, schema, name, kind, base))
    return found


def restore_interrupted_swaps(adapter: Any, schemas: set[tuple[str, str]]) -> list[str]:
    """Rename orphaned `X__dbt_backup` relations back to `X`; returns the restored names."""
    restored = []
    with adapter.connection_named("pipeline_tui_recovery"):
        _, table = adapter.execute("select table_catalog, table_schema, table_name, table_type "
                                   "from information_schema.tables", fetch=True)
        for catalog, schema, backup, kind, base in interrupted_swaps([tuple(r) for r in table.rows], schemas):
            relation = adapter.Relation.create(database=catalog, schema=schema, identifier=backup)
            keyword = "view" if "VIEW" in str(kind).upper() else "table"
            adapter.execute(f"alter {keyword} {relation} rename to {adapter.quote(base)}", auto_begin=True)
            adapter.commit_if_has_connection()
            restored.append(base)
    return restored
