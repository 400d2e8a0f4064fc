"""Reads of warehouse relations that pipeline-tui can observe (DuckDB), for the deprecation lifecycle.

Provides `relations_read(queries)` (the relations each check query read, by label: stored with a
check's facts in history), `Read`, `check_reads(history)` and `query_log_reads(folders)`.

What is observable on DuckDB:
- reads through pipeline-tui: every query of `check`, `triage` and the cockpit's triage is
  recorded with the check's facts (which relation, which check);
- DuckDB's query log, when the user turns it on in their own DuckDB clients:
  `CALL enable_logging('QueryLog', storage = 'file', storage_path = '<folder>')`; pipeline-tui
  reads every `duckdb_log_entries.csv` under `<workspace>/query-log` and the folders listed in
  `PIPELINE_TUI_QUERY_LOG` (separated by `:`).
What is not: a DuckDB file read by any other tool or connection without the query log leaves no
trace, nor does a read through a view created outside dbt (the log names the view only).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable

QUERY_LOG_ENV = "PIPELINE_TUI_QUERY_LOG"
LOG_FILE = "duckdb_log_entries.csv"


@dataclass(frozen=True)
class Read:
    at: float  # unix seconds
    via: str  # "pipeline-tui check" or "DuckDB query log"
    relation: str  # schema.name as written, or name alone
    detail: str  # the check's query label, or the tables a logged query read (never its SQL text)
    holds_drop: bool  # a use of the relation (not pipeline-tui checking every model)


def relation_key(name: str) -> str:
    """`catalog.schema.name` -> `schema.name`; `name` stays `name` (lower case)."""
    parts = [p.strip('"') for p in name.lower().split(".")]
    return ".".join(parts[-2:])


def tables_in(sql: str) -> set[str]:
    import duckdb

    try:
        return {relation_key(n) for n in duckdb.get_table_names(sql, qualified=True)}
    except Exception:  # noqa: BLE001 - not a statement DuckDB parses (CALL, PRAGMA, another dialect)
        return set()


def relations_read(queries: Iterable[Any]) -> dict[str, list[str]]:
    """Per relation read, the labels of the queries that read it (from `QueryRecord`s)."""
    found: dict[str, list[str]] = {}
    for query in queries:
        for relation in tables_in(query.sql):
            labels = found.setdefault(relation, [])
            if query.label not in labels and len(labels) < 20:
                labels.append(query.label)
    return found


def matches(relation: str, schema: str | None, name: str) -> bool:
    key = relation_key(relation)
    return key == name.lower() or key == f"{(schema or 'main').lower()}.{name.lower()}"


def check_reads(history: Any, schema: str | None, name: str) -> list[Read]:
    """Reads of one relation by stored checks. A business rule reading it is a use that holds a drop;
    the generic families read every model by design and stop once it is gone."""
    from tui.core.checks.engine import FACTS_KIND, FACTS_OBJECT

    found = []
    for record in history.profiles(object=FACTS_OBJECT, kind=FACTS_KIND, limit=1000):
        for relation, labels in (record.payload.get("reads") or {}).items():
            if matches(relation, schema, name):
                rules = [label for label in labels if label.startswith("rule ")]
                found.append(Read(record.created_at, "pipeline-tui check", relation,
                                  ", ".join((rules or labels)[:3]), bool(rules)))
    return found


def log_folders(workspace: Any) -> list[Path]:
    extra = [Path(p).expanduser() for p in os.environ.get(QUERY_LOG_ENV, "").split(os.pathsep) if p.strip()]
    return [Path(workspace.root) / "query-log", *extra]


def query_log_reads(folders: list[Path], schema: str | None, name: str) -> list[Read]:
    found = []
    for folder in folders:
        for log in sorted(folder.rglob(LOG_FILE)) if folder.is_dir() else []:
            for at, sql in _log_entries(log):
                tables = tables_in(sql)
                for relation in tables:
                    if matches(relation, schema, name):  # the tables it read, never the SQL: it may hold values
                        found.append(Read(at, "DuckDB query log", relation, "a query on " + ", ".join(sorted(tables)),
                                          True))
    return found


def _log_entries(path: Path) -> list[tuple[float, str]]:
    import duckdb

    conn = duckdb.connect(":memory:")
    try:
        rows = conn.execute("SELECT timestamp::VARCHAR, message FROM read_csv(?, header = true, all_varchar = true) "
                            "WHERE type = 'QueryLog'", [str(path)]).fetchall()
    except duckdb.Error:
        return []
    finally:
        conn.close()
    entries = []
    for stamp, message in rows:
        try:
            entries.append((datetime.fromisoformat(stamp).timestamp(), message or ""))
        except (TypeError, ValueError):
            continue
    return entries
