"""dbt at scale: the full build against the same compiled SQL run straight in DuckDB, and an
incremental run after one new daily feed against a full refresh of the same models.

- `full_build_rows(workspace, runs, env)`: `pipeline-tui build --full-refresh` (our headless CLI, one
  dbt invocation) as a child, then `python -m bench.bench_dbt_scale straight ...` as a child: every
  model, the snapshot and every data test of the manifest, in DAG order, from the SQL dbt compiled
  for that build, as `CREATE OR REPLACE VIEW/TABLE ... AS` and `SELECT count(*) FROM (test)`, in a
  fresh DuckDB file with the profile's settings. Both sides are timed spawn-to-exit with their
  peak RSS (VmHWM). dbt overhead ratio = dbt / straight.
- `incremental_rows(workspace, runs, env)`: adds a next clean daily feed and loads it (untimed),
  saves the warehouse, adds one more day (`add_next_day`), then per run restores the warehouse and
  runs `run -s +stg_benefits__claims` (incremental merge) and the same with `--full-refresh`; times
  come from the run history (the dbt invocation, and the merge node alone), and both results must
  match (row count and amount total of the claims table).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from pathlib import Path

from bench.bench_common import PY, Row, cli, log, measure_child, ratio_of

INCREMENTAL_SELECT = "+stg_benefits__claims"
MERGE_MODEL = "stg_benefits__claims"
OVERHEAD_TARGET = 1.15
MEMORY_TARGET_MIB = 6 * 1024
INCREMENTAL_TARGET = 0.15


# --- the straight run (child process) -------------------------------------------------------
def straight_statements(target_path: Path) -> list[tuple[str, str]]:
    """(node name, SQL) for every model, snapshot and data test, parents first."""
    from tui.core.project import load_project

    project = load_project(target_path)
    statements = []
    for node in project.in_dag_order(("model", "snapshot", "test")):
        sql = project.compiled_sql(node.unique_id)
        if sql is None:
            raise RuntimeError(f"no compiled SQL for {node.unique_id}: build the project first")
        statements.append((node.name, _statement(node, sql.strip().rstrip(";"))))
    return statements


def _statement(node, sql: str) -> str:
    if node.resource_type == "test":
        return f"select count(*) from (\n{sql}\n) as dbt_test"
    if node.resource_type == "snapshot":  # the first snapshot of a table: every row valid from its update
        sql = (f"select *, md5(cast(employee_id as varchar) || cast(last_updated as varchar)) as dbt_scd_id, "
               f"last_updated as dbt_snapshot_updated_at, last_updated as dbt_valid_from, "
               f"cast(null as timestamp) as dbt_valid_to from (\n{sql}\n) as snapshot_query")
    kind = "view" if node.materialized == "view" else "table"
    return f"create or replace {kind} {node.relation_name} as (\n{sql}\n)"


def run_straight(target_path: Path, database: Path, raw_dir: Path, memory_limit: str | None) -> dict:
    import duckdb

    statements = straight_statements(target_path)
    began = time.perf_counter()
    con = duckdb.connect(str(database))
    for setting in ("enable_progress_bar = false", f"file_search_path = '{raw_dir}'", "TimeZone = 'UTC'",
                    "preserve_insertion_order = false", *([f"memory_limit = '{memory_limit}'"] if memory_limit else [])):
        con.execute(f"set {setting}")
    schemas = {s.split(".")[1] for _, s in _relations(statements)}
    for schema in schemas:
        con.execute(f"create schema if not exists {schema}")
    per_node = {}
    for name, sql in statements:
        started = time.perf_counter()
        con.execute(sql).fetchall()
        per_node[name] = per_node.get(name, 0.0) + time.perf_counter() - started
    con.close()
    return {"seconds": time.perf_counter() - began, "statements": len(statements), "per_node": per_node}


def _relations(statements: list[tuple[str, str]]) -> list[tuple[str, str]]:
    found = []
    for name, sql in statements:
        if sql.startswith("create or replace"):
            found.append((name, sql.split()[4]))  # create or replace <kind> "db"."schema"."name" as
    return found


# --- rows ---------------------------------------------------------------------------------
def full_build_rows(workspace, runs: int, env: dict, memory_limit: str | None, label: str) -> list[Row]:
    ours, straight, ours_rss, straight_rss, statements = [], [], [], [], 0
    for run in range(runs):
        log(f"full build {run + 1}/{runs}: dbt through pipeline-tui build --full-refresh")
        built = cli(workspace, "build", "--full-refresh", env=env, check=False)
        if built.returncode not in (0, 1):  # 1: a data test failed (the incident data fails some): still a build
            raise RuntimeError(f"full build failed: {built.stdout[-1500:]} {built.stderr[-1500:]}")
        ours.append(built.seconds)
        ours_rss.append(built.peak_rss_mib)
        log(f"full build {run + 1}/{runs}: {built.seconds:.1f} s, peak {built.peak_rss_mib:.0f} MiB; straight SQL")
        result = _straight_child(workspace, env, memory_limit)
        log(f"full build {run + 1}/{runs}: straight SQL {result['wall']:.1f} s; slowest nodes, dbt / straight: "
            + _slowest_side_by_side(_latest_run(workspace)[1], result["per_node"]))
        straight.append(result["wall"])
        straight_rss.append(result["rss"])
        statements = result["statements"]
    ratio = ratio_of(ours, straight)
    peak = max(ours_rss)
    return [
        Row("full_build", f"full build {label} (`build --full-refresh`, spawn to exit)", "s", ours, straight,
            "same compiled SQL straight in DuckDB (spawn to exit)", f"overhead ≤ {OVERHEAD_TARGET}x", ratio,
            ratio is not None and ratio <= OVERHEAD_TARGET,
            f"ratio = dbt / straight SQL ({statements} statements: models, snapshot and data tests)"),
        Row("full_build_memory", f"peak RSS of that build (DuckDB memory_limit {memory_limit or 'default 80%'})",
            "MiB", ours_rss, straight_rss, "straight SQL process", "< 6 GiB", ratio_of(ours_rss, straight_rss),
            peak < MEMORY_TARGET_MIB, f"highest of {len(ours_rss)} runs: {peak:,.0f} MiB"),
    ]


def _slowest_side_by_side(dbt_nodes: dict[str, float], straight_nodes: dict[str, float], count: int = 6) -> str:
    slowest = sorted(dbt_nodes, key=dbt_nodes.get, reverse=True)[:count]
    return ", ".join(f"{name} {dbt_nodes[name]:.1f}/{straight_nodes.get(name, 0.0):.1f} s" for name in slowest)


def _straight_child(workspace, env: dict, memory_limit: str | None) -> dict:
    folder = workspace.root / "bench-straight"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    database = folder / workspace.warehouse.name  # same file stem: the compiled SQL names that catalog
    args = [PY, "-m", "bench.bench_dbt_scale", "straight", "--target-path", str(workspace.target_path),
            "--database", str(database), "--raw-dir", str(workspace.raw_dir)]
    args += ["--memory-limit", memory_limit] if memory_limit else []
    child = measure_child(args, env=env)
    shutil.rmtree(folder, ignore_errors=True)
    if child.returncode != 0:
        raise RuntimeError(f"straight SQL run failed: {child.stderr[-2000:]}")
    data = json.loads(child.stdout.strip().splitlines()[-1])
    return {"wall": child.seconds, "rss": child.peak_rss_mib, **data}


def _latest_run(workspace) -> tuple[float, dict[str, float]]:
    from tui.core.history import HistoryStore

    with HistoryStore(workspace.history_path) as store:
        run = store.recent_runs(1)[0]
        nodes = {n.name: n.duration_s or 0.0 for n in store.node_results(run.run_id)}
    return run.elapsed_s or 0.0, nodes


def incremental_rows(workspace, runs: int, env: dict, label: str) -> list[Row]:
    """Catch up with one next day first (untimed), then time the day after: the incident's partner
    feed shares its date with the first next day, so that day alone would test the watermark, not speed."""
    from tui.core.generator import add_next_day

    add_next_day(workspace.raw_dir)
    cli(workspace, "run", "-s", INCREMENTAL_SELECT, env=env)
    saved = workspace.root / "bench-before-next-day.duckdb"
    shutil.copy2(workspace.warehouse, saved)
    rows_before = _claims_fingerprint(workspace)[0]
    day = add_next_day(workspace.raw_dir)
    timings: dict[str, list[float]] = {"inc": [], "full": [], "merge_inc": [], "merge_full": []}
    fingerprints = set()
    try:
        for run in range(runs):
            shutil.copy2(saved, workspace.warehouse)
            os.sync()  # the restore is set-up: its writeback of several GB must not fall inside the timed run
            for mode, extra in (("inc", ()), ("full", ("--full-refresh",))):
                log(f"incremental {run + 1}/{runs}: run -s {INCREMENTAL_SELECT} {' '.join(extra)}")
                cli(workspace, "run", "-s", INCREMENTAL_SELECT, *extra, env=env)
                elapsed, nodes = _latest_run(workspace)
                timings[mode].append(elapsed)
                timings[f"merge_{mode}"].append(nodes.get(MERGE_MODEL, 0.0))
                fingerprints.add((mode, _claims_fingerprint(workspace)))
    finally:
        saved.unlink(missing_ok=True)
    same = len({f for _, f in fingerprints}) == 1
    check = "incremental result = full refresh (rows, amount total)" if same else \
        f"incremental result DIFFERS from the full refresh: {sorted(fingerprints)}"
    what = (f"incremental `run -s {INCREMENTAL_SELECT}` after one daily feed ({day.rows['claims']:,} lines) "
            f"on {rows_before:,} claims {label}")
    return [_incremental_row("incremental", what, timings["inc"], timings["full"], same,
                             f"dbt invocation time from history; {check}"),
            _incremental_row("incremental_merge", f"the merge model `{MERGE_MODEL}` alone, same runs",
                             timings["merge_inc"], timings["merge_full"], same, "node time from history")]


def _incremental_row(key: str, what: str, ours: list[float], full: list[float], same: bool, note: str) -> Row:
    ratio = ratio_of(ours, full)
    return Row(key, what, "s", ours, full, "full refresh of the same models", f"≤ {INCREMENTAL_TARGET} of full, same result",
               ratio, ratio is not None and ratio <= INCREMENTAL_TARGET and same, note)


def _claims_fingerprint(workspace) -> tuple[int, float]:
    import duckdb

    with duckdb.connect(str(workspace.warehouse), read_only=True) as con:
        rows, amount = con.execute(f"select count(*), sum(amount) from main.{MERGE_MODEL}").fetchone()
    return int(rows), float(amount or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description="child: run the compiled SQL of a build straight in DuckDB")
    parser.add_argument("mode", choices=["straight"])
    parser.add_argument("--target-path", type=Path, required=True)
    parser.add_argument("--database", type=Path, required=True)
    parser.add_argument("--raw-dir", type=Path, required=True)
    parser.add_argument("--memory-limit")
    args = parser.parse_args()
    print(json.dumps(run_straight(args.target_path, args.database, args.raw_dir, args.memory_limit)))


if __name__ == "__main__":
    main()
