"""The benchmark suite: every row of issue 6, one command, ratios against baselines of the same run.

    .venv/bin/python -m bench.run --scale small          # quick look (test-size data, minutes)
    .venv/bin/python -m bench.run --scale incident       # 20M-claim partner feed (about an hour, 2 cores)
    .venv/bin/python bench/run.py --scale small --runs 1 --no-write --json out.json   # smoke test

Data and warehouses live under `--data-dir` (default /tmp/bench-data/<scale>, deleted at the end
unless --keep-data). Each step's rows are saved to the JSON file as soon as it finishes; the table
goes into BENCHMARKS.md under `## Suite` / `### <scale> scale` (other sections untouched).
A step that fails becomes a row with the error, and the suite goes on.

    --only full_build --raw-from DIR      # re-measure some rows on feeds generated earlier
    --from-json first.json later.json     # rewrite the table from saved rows (later rows win)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# every module is imported now, so edits to bench/ while a long run goes on cannot change it midway
from bench import (bench_dbt_scale, bench_profile, bench_regression, bench_session,  # noqa: E402
                   bench_tui_rows)
from bench.bench_common import Row, bench_env, log  # noqa: E402
from bench.bench_generator_rate import generate_timed, generator_rows  # noqa: E402
from bench.bench_report import machine_line, write_suite  # noqa: E402
from tui.core.workspace import git_revision  # noqa: E402

SCALES = {
    # size "test" of fixtures/sizes.yaml: 300 claims a day for 21 days; incident partner feed 1,500 claims
    "small": dict(sizes=dict(size="test"), memory_limit=None, runs=5, heavy_runs=3, gen_runs=3,
                  baseline_builds=3, cancel_runs=5, tui_size="test", label="(small: test size)"),
    # 4M baseline claims in one day, then the incident's partner feed: 5 x 4M = 20M claims in one file
    "incident": dict(sizes=dict(companies=200, employees=200_000, claims_per_day=4_000_000, days=1),
                     memory_limit="5GB", runs=5, heavy_runs=3, gen_runs=1, baseline_builds=3, cancel_runs=3,
                     tui_size="demo", label="(incident: 4M + 20M claims)"),
}
STEPS = ("baseline_builds", "generator", "regression", "full_build", "triage_profile", "rebuild", "cancel",
         "incremental", "tui")
REBUILD_MODEL = "dim_plans"
PROFILED_TABLE = "stg_benefits__claims"


@dataclass
class Suite:
    scale: str
    config: dict
    data_dir: Path
    json_path: Path | None
    rows: list[Row] = field(default_factory=list)
    extras: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.time)
    revision: str = field(default_factory=lambda: git_revision(ROOT) or "unknown")
    only: set[str] | None = None  # step names to run (None: all)
    finished: float | None = None
    machine: str | None = None  # machine, load and versions when the rows were measured

    @property
    def label(self) -> str:
        return self.config["label"]

    def step(self, name: str, measure) -> None:
        """Run one step; its rows (or an error row) are added and saved at once."""
        if self.only is not None and name not in self.only:
            return
        began = time.perf_counter()
        log(f"step {name}")
        try:
            self.rows += measure()
        except Exception as error:  # noqa: BLE001 - one broken step must not lose the others
            traceback.print_exc()
            self.rows.append(Row(f"{name}_error", f"{name}: could not run", "s", [], note=f"error: {str(error)[:300]}"))
        log(f"step {name} done in {time.perf_counter() - began:.0f} s")
        self.save()

    def save(self) -> None:
        self.finished, self.machine = time.time(), machine_line()
        if self.json_path is None:
            return
        data = {"scale": self.scale, "started": self.started, "finished": self.finished, "machine": self.machine,
                "revision": self.revision,
                "rows": [r.to_dict() for r in self.rows],
                "extras": self.extras, "config": {k: v for k, v in self.config.items()}}
        self.json_path.write_text(json.dumps(data, indent=1, default=str))


def _workspace(root: Path):
    from tui.core.workspace import Workspace

    return Workspace.resolve(workspace=root).ensure_dirs()


def _link_big(source: str, target: str) -> None:
    """Hard-link big feed files (written once), copy small ones (the generator rewrites its metadata)."""
    if os.path.getsize(source) > 1 << 20:
        os.link(source, target)
    else:
        shutil.copy2(source, target)


def _dbt_steps(suite: Suite, env: dict, raw_from: Path | None) -> None:
    from tui.core.generator import generate

    cfg, label = suite.config, suite.label
    ws = _workspace(suite.data_dir / "main")
    if raw_from is None:
        generate(ws.raw_dir, "baseline", **cfg["sizes"])
    else:  # feeds made earlier: hard links (no copy); the steps that generate and compare baselines are skipped
        shutil.rmtree(ws.raw_dir)
        shutil.copytree(raw_from, ws.raw_dir, copy_function=_link_big)
        suite.only = (suite.only or set(STEPS)) - {"baseline_builds", "generator", "regression"}
    suite.step("baseline_builds", lambda: bench_regression.baseline_builds(ws, cfg["baseline_builds"], env) or [])

    def generation() -> list[Row]:
        timed = [generate_timed(ws.raw_dir, "incident", **cfg["sizes"]) for _ in range(cfg["gen_runs"])]
        totals = [(s.total_rows, s.seconds) for s, _ in timed]
        return generator_rows([t for _, t in timed], totals, cfg["memory_limit"], label)

    def regression() -> list[Row]:
        rows, table = bench_regression.incident_rows(ws, env, label)
        suite.extras["regression"] = table
        return rows

    suite.step("generator", generation)
    suite.step("regression", regression)
    suite.step("full_build", lambda: bench_dbt_scale.full_build_rows(ws, cfg["heavy_runs"], env, cfg["memory_limit"], label))
    suite.step("triage_profile", lambda: bench_profile.profile_rows(ws, cfg["runs"], PROFILED_TABLE, label))
    suite.step("rebuild", lambda: bench_session.rebuild_rows(ws, REBUILD_MODEL, cfg["runs"], env, label))
    suite.step("cancel", lambda: bench_session.cancel_rows(ws, cfg["cancel_runs"], env, label))
    suite.step("incremental", lambda: bench_dbt_scale.incremental_rows(ws, cfg["heavy_runs"], env, label))


def _tui_steps(suite: Suite, env: dict) -> None:
    root = suite.data_dir / "tui"
    size = suite.config["tui_size"]
    suite.step("tui", lambda: bench_tui_rows.tui_rows(root, size, suite.config["runs"], suite.config["heavy_runs"], env))


def run_suite(args: argparse.Namespace) -> Suite:
    config = dict(SCALES[args.scale])
    for key in ("runs", "heavy_runs", "gen_runs", "baseline_builds", "cancel_runs"):
        if args.runs is not None:
            config[key] = max(1, min(args.runs, config[key]))
    data_dir = (args.data_dir or Path("/tmp/bench-data")) / args.scale
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    suite = Suite(args.scale, config, data_dir, args.json, only=set(args.only.split(",")) if args.only else None)
    env = bench_env(memory_limit=config["memory_limit"])
    os.environ.update({k: env[k] for k in ("DO_NOT_TRACK", "DBT_SEND_ANONYMOUS_USAGE_STATS")})
    try:
        _dbt_steps(suite, env, args.raw_from)
        _tui_steps(suite, env)
    finally:
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
    return suite


def suite_from_json(paths: list[Path]) -> Suite:
    """Rows saved by earlier runs; a later file's row replaces an earlier row with the same key."""
    first = json.loads(paths[0].read_text())
    suite = Suite(first["scale"], first["config"], Path("."), None, started=first["started"],
                  revision=first.get("revision", "unknown"), finished=first.get("finished"),
                  machine=first.get("machine"))
    rows: dict[str, Row] = {}
    for index, path in enumerate(paths):
        data = json.loads(path.read_text())
        for raw in data["rows"]:
            row = Row(**raw)
            if index:
                when = time.strftime("%H:%M", time.localtime(data["started"]))
                again = "re-measured" if row.key in rows else "measured"
                row.note = (row.note + "; " if row.note else "") + f"{again} in a later run ({when}, " \
                           f"revision {data.get('revision', 'unknown')})"
            rows[row.key] = row
        suite.extras.update(data.get("extras", {}))
    suite.rows = list(rows.values())
    return suite


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=sorted(SCALES), default="small")
    parser.add_argument("--runs", type=int, help="cap every repetition count (1 for a smoke test)")
    parser.add_argument("--data-dir", type=Path, help="where data and warehouses go (default /tmp/bench-data)")
    parser.add_argument("--keep-data", action="store_true", help="keep the generated data and warehouses")
    parser.add_argument("--json", type=Path, help="also write every row as JSON to this file")
    parser.add_argument("--output", type=Path, default=ROOT / "BENCHMARKS.md", help="the Markdown file to update")
    parser.add_argument("--no-write", action="store_true", help="print the table, leave BENCHMARKS.md alone")
    parser.add_argument("--only", help=f"comma-separated steps to run: {','.join(STEPS)}")
    parser.add_argument("--raw-from", type=Path, help="use these raw feeds (hard links) instead of generating; "
                        "skips the baseline builds, generator and regression steps")
    parser.add_argument("--from-json", type=Path, nargs="+", help="run nothing: write the table from saved JSON "
                        "files (a later file's rows replace the same rows of an earlier one)")
    args = parser.parse_args(argv)
    suite = suite_from_json(args.from_json) if args.from_json else run_suite(args)
    text = write_suite(suite, None if args.no_write else args.output)
    print(text)
    misses = [r.key for r in suite.rows if r.passed is False]
    log(f"{len(suite.rows)} rows, {len(misses)} missed targets: {', '.join(misses) or 'none'}")


if __name__ == "__main__":
    main()
