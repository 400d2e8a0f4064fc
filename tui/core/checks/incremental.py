"""Incremental inspection (DESIGN.md "isolate the regression", step 4).

1. The audit table (`dbt_audit.incremental_runs` in the embedded project; any relation with
   `model`, `rows_inserted`, `rows_updated` columns): the latest load of each incremental model
   against its usual size. A suddenly huge load points at the problem.
2. A full refresh of an incremental model, computed without touching the warehouse: its SELECT is
   compiled by dbt in a child process against an empty scratch warehouse of the same name (so
   `is_incremental()` is false), then compared with the incremental table: row counts, key sets
   (keys only on one side) and numeric sums. Equal results rule out the incremental logic.
"""

from __future__ import annotations

import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from tui.core.checks.context import CheckContext
from tui.core.checks.findings import FAIL, PASS, WARN, Finding, status_for
from tui.core.checks.sql import quote
from tui.core.checks.targets import NUMERIC

CHECK = "incremental"
AUDIT_COLUMNS = {"model", "rows_inserted", "rows_updated"}


def incremental_findings(ctx: CheckContext, *, full_refresh: bool | None = None) -> list[Finding]:
    found = audit_findings(ctx)
    compare = ctx.config.get("incremental.full_refresh_compare", True) if full_refresh is None else full_refresh
    if compare:
        found += full_refresh_findings(ctx)
    if not found:
        ctx.skip(CHECK, "no incremental model or audit table in this project")
    return found


def audit_relation(ctx: CheckContext) -> str | None:
    rows = ctx.runner.rows("SELECT table_catalog AS c, table_schema AS s, table_name AS t, list(column_name) AS cols "
                           "FROM information_schema.columns GROUP BY 1, 2, 3", "find the incremental audit table")
    for row in rows:
        if AUDIT_COLUMNS <= {str(c).lower() for c in row["cols"]} and "audit" in f"{row['s']}.{row['t']}".lower():
            return ".".join(quote(str(row[k])) for k in ("c", "s", "t"))
    return None


def audit_findings(ctx: CheckContext) -> list[Finding]:
    relation = audit_relation(ctx)
    if relation is None:
        return []
    order = "recorded_at" if _has_column(ctx, relation, "recorded_at") else "rowid"
    mode = "run_mode" if _has_column(ctx, relation, "run_mode") else "NULL AS run_mode"
    rows = ctx.runner.rows(f"SELECT model, rows_inserted, rows_updated, {mode} FROM {relation} ORDER BY model, {order}",
                           "incremental audit rows")
    by_model: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_model.setdefault(str(row["model"]), []).append(row)
    return [_audit_finding(ctx, model, loads) for model, loads in sorted(by_model.items())]


def _has_column(ctx: CheckContext, relation: str, column: str) -> bool:
    return any(name == column for name, _ in ctx.runner.columns(relation))


def _audit_finding(ctx: CheckContext, model: str, loads: list[dict[str, Any]]) -> Finding:
    latest = loads[-1]
    touched = int(latest["rows_inserted"] or 0) + int(latest["rows_updated"] or 0)
    evidence = {"rows_inserted": latest["rows_inserted"], "rows_updated": latest["rows_updated"], "loads": len(loads)}
    usual, basis = _usual_load(ctx, model, loads)
    if str(latest.get("run_mode") or "") == "full_refresh":
        usual = None  # a full refresh inserts everything: nothing to compare
    if usual is None:
        return Finding(f"{CHECK}.audit", PASS, model, None,
                       f"latest load of {model}: {latest['rows_inserted']:,} inserted, {latest['rows_updated']:,} updated "
                       f"({latest.get('run_mode') or 'no earlier incremental load to compare'})", evidence)
    ratio = touched / usual if usual else float(touched > 0)
    status = status_for(ratio, ctx.config.get("incremental.warn_ratio", 3.0), ctx.config.get("incremental.fail_ratio", 10.0))
    evidence.update(usual_rows=round(usual, 1), usual_from=basis, ratio=round(ratio, 2))
    return Finding(f"{CHECK}.audit", status, model, None,
                   f"latest load of {model} touched {touched:,} rows ({latest['rows_inserted']:,} inserted, "
                   f"{latest['rows_updated']:,} updated) against a usual {usual:,.0f} ({ratio:.1f}x, {basis})", evidence)


def _usual_load(ctx: CheckContext, model: str, loads: list[dict[str, Any]]) -> tuple[float | None, str]:
    """Median of earlier incremental loads; with none yet, the first full load spread over the
    deliveries it held (the table's feed files before the latest one)."""
    earlier = [int(r["rows_inserted"] or 0) + int(r["rows_updated"] or 0) for r in loads[:-1]
               if str(r.get("run_mode") or "incremental") == "incremental"]
    if earlier:
        return statistics.median(earlier), f"median of {len(earlier)} earlier loads"
    first = loads[0] if len(loads) > 1 else None
    profile = ctx.profiles().get(model) if first is not None else None
    if profile is None or len(profile.deliveries) < 2:
        return None, ""
    return int(first["rows_inserted"] or 0) / (len(profile.deliveries) - 1), "first load per delivery"


def incremental_models(ctx: CheckContext) -> list[Any]:
    return [n for n in ctx.project.in_dag_order(("model",)) if n.materialized == "incremental"]


def full_refresh_findings(ctx: CheckContext) -> list[Finding]:
    models = [n for n in incremental_models(ctx) if ctx.spec(n.name) is not None]
    if not models or ctx.project_dir is None:
        return []
    try:
        compiled = compile_full_refresh(ctx, [n.name for n in models])
    except RuntimeError as error:
        return [Finding(f"{CHECK}.full_refresh", WARN, n.name, None, f"full refresh not compared: {error}", {}) for n in models]
    found = []
    for node in models:
        ctx.check_cancelled()
        sql = compiled.get(node.name)
        if sql:
            found.append(compare_full_refresh(ctx, node, sql))
    return found


def unique_key_of(ctx: CheckContext, node) -> list[str]:
    """The model's `unique_key` config, else its unique-tested column."""
    manifest = getattr(ctx.project, "_raw_nodes", {}).get(node.unique_id, {})  # Node has no config yet
    key = (manifest.get("config") or {}).get("unique_key")
    if isinstance(key, str):
        return [key]
    if isinstance(key, list):
        return [str(k) for k in key]
    return [t.column for t in ctx.project.tests_of(node.unique_id) if t.test_name == "unique" and t.column][:1]


def compare_full_refresh(ctx: CheckContext, node, sql: str) -> Finding:
    spec = ctx.spec(node.name)
    keys = [k for k in unique_key_of(ctx, node) if spec.column(k)]
    numbers = [c.name for c in spec.columns if c.kind == NUMERIC and c.name not in keys and not c.name.startswith("dbt_")][:6]
    sums = ", ".join(f"(SELECT sum({quote(c)}) FROM fr) AS {quote('fr_' + c)}, (SELECT sum({quote(c)}) FROM inc) AS {quote('inc_' + c)}"
                     for c in numbers)
    on = " AND ".join(f"a.{quote(k)} IS NOT DISTINCT FROM b.{quote(k)}" for k in keys) or "FALSE"
    query = (f"WITH fr AS MATERIALIZED ({sql.strip().rstrip(';')}), inc AS (SELECT * FROM {spec.relation}) "
             f"SELECT (SELECT count(*) FROM fr) AS fr_rows, (SELECT count(*) FROM inc) AS inc_rows, "
             f"(SELECT count(*) FROM fr a WHERE NOT EXISTS (SELECT 1 FROM inc b WHERE {on})) AS only_full, "
             f"(SELECT count(*) FROM inc a WHERE NOT EXISTS (SELECT 1 FROM fr b WHERE {on})) AS only_incremental"
             + (f", {sums}" if sums else ""))
    row = ctx.runner.one(query, f"full refresh of {node.name} vs incremental")
    diffs = {c: (row[f"fr_{c}"], row[f"inc_{c}"]) for c in numbers if _differs(row[f"fr_{c}"], row[f"inc_{c}"])}
    evidence = {"full_refresh_rows": row["fr_rows"], "incremental_rows": row["inc_rows"], "keys": keys,
                "keys_only_in_full_refresh": row["only_full"], "keys_only_in_incremental": row["only_incremental"],
                "sums_differ": {c: {"full_refresh": float(a or 0), "incremental": float(b or 0)} for c, (a, b) in diffs.items()}}
    same = row["fr_rows"] == row["inc_rows"] and not row["only_full"] and not row["only_incremental"] and not diffs
    if same:
        return Finding(f"{CHECK}.full_refresh", PASS, node.name, None,
                       f"a full refresh of {node.name} gives the same {row['fr_rows']:,} rows, keys and sums: "
                       "the incremental logic is not the cause", evidence)
    return Finding(f"{CHECK}.full_refresh", FAIL, node.name, (keys or [None])[0],
                   f"incremental {node.name} differs from a full refresh: {row['inc_rows']:,} vs {row['fr_rows']:,} rows, "
                   f"{row['only_full']:,} keys missing, {row['only_incremental']:,} extra"
                   + (f", sums differ on {', '.join(diffs)}" if diffs else ""), evidence)


def _differs(a: Any, b: Any) -> bool:
    a, b = float(a or 0), float(b or 0)
    return abs(a - b) > max(1e-6 * max(abs(a), abs(b)), 0.005)


_COMPILED: dict[tuple, dict[str, str]] = {}  # compiled SQL depends on the project's code, not on the data


def compile_full_refresh(ctx: CheckContext, models: list[str]) -> dict[str, str]:
    """dbt compile in a child process against an empty warehouse file named like the real one.
    Cached per process by the models' code, so re-running the step costs no second compile."""
    warehouse_name = ctx.runner.one("SELECT current_database() AS db", "catalog name")["db"]
    code = tuple(sorted((n.unique_id, hashlib.sha1(ctx.project.source_sql(n.unique_id).encode()).hexdigest())
                        for n in ctx.project.nodes.values()))
    key = (str(ctx.project_dir), str(ctx.profiles_dir), warehouse_name, tuple(models), code)
    if key not in _COMPILED:
        _COMPILED[key] = _compile(ctx, models, warehouse_name)
    return _COMPILED[key]


def _compile(ctx: CheckContext, models: list[str], warehouse_name: str) -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="pipeline-tui-fr-") as scratch:
        root = Path(scratch)
        env = {**os.environ, "PIPELINE_TUI_WAREHOUSE": str(root / f"{warehouse_name}.duckdb"),
               "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
        if ctx.raw_dir is not None:
            env["PIPELINE_TUI_RAW_DIR"] = str(ctx.raw_dir)
        profiles = ctx.profiles_dir or ctx.project_dir
        args = [sys.executable, "-c", "from dbt.cli.main import cli; cli()", "compile", "--full-refresh",
                "--project-dir", str(ctx.project_dir), "--profiles-dir", str(profiles),
                "--target-path", str(root / "target"), "--log-path", str(root / "logs"), "--quiet",
                "--select", *models]
        done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600, cwd=scratch)
        if done.returncode != 0:
            tail = (done.stdout + done.stderr).strip().splitlines()
            raise RuntimeError(f"dbt compile failed: {tail[-1] if tail else 'no output'}")
        compiled = {}
        for model in models:
            found = list((root / "target" / "compiled").rglob(f"{model}.sql"))
            if found:
                compiled[model] = found[0].read_text()
        return compiled
