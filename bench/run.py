"""The benchmark suite: every row of issue 6, one command, ratios against baselines of the same run.

    .venv/bin/python -m bench.run --scale small          # quick look (test-size data, minutes)
    .venv/bin/python -m bench.run --scale incident       # 20M-claim partner feed (about an hour, 2 cores)
    .venv/bin/python bench/run.py --scale small --runs 1 --no-write --json out.json   # smoke test

Data and warehouses live under `--data-dir` (default /tmp/bench-data/<scale>, deleted at the end
unless --keep-data). Each step's rows are saved to the JSON file as soon as it finishes; the table
goes into BENCHMARKS.md under `## Suite` / `### <scale> scale` (other sections untouched).
A step that fails becomes a row with the error, and the suite goes on.
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
from bench.bench_report import write_suite  # noqa: E402
from tui.core.workspace import git_revision  # noqa: E402

SCALES = {
    # size "test" of fixtures/sizes.yaml: 300 claims a day for 21 days; incident partner feed 1,500 claims
    "small": dict(sizes=dict(size="test"), memory_limit=None, runs=5, heavy_runs=3, gen_runs=3,
                  baseline_builds=3, cancel_runs=5, tui_size="test", label="(small: test size)"),
    # 4M baseline claims in one day, then the incident's partner feed: 5 x 4M = 20M claims in one file
    "incident": dict(sizes=dict(companies=200, employees=200_000, claims_per_day=4_000_000, days=1),
                     memory_limit="5GB", runs=5, heavy_runs=2, gen_runs=1, baseline_builds=3, cancel_runs=3,
                     tui_size="demo", label="(incident: 4M + 20M claims)"),
}
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

    @property
    def label(self) -> str:
        return self.config["label"]

    def step(self, name: str, measure) -> None:
        """Run one step; its rows (or an error row) are added and saved at once."""
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
        if self.json_path is None:
            return
        data = {"scale": self.scale, "started": self.started, "rows": [r.to_dict() for r in self.rows],
                "extras": self.extras, "config": {k: v for k, v in self.config.items()}}
        self.json_path.write_text(json.dumps(data, indent=1, default=str))


def _workspace(root: Path):
    from tui.core.workspace import Workspace

    return Workspace.resolve(workspace=root).ensure_dirs()


def _dbt_steps(suite: Suite, env: dict) -> None:
    from tui.core.generator import generate

    cfg, label = suite.config, suite.label
    ws = _workspace(suite.data_dir / "main")
    generate(ws.raw_dir, "baseline", **cfg["sizes"])
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
    suite = Suite(args.scale, config, data_dir, args.json)
    env = bench_env(memory_limit=config["memory_limit"])
    os.environ.update({k: env[k] for k in ("DO_NOT_TRACK", "DBT_SEND_ANONYMOUS_USAGE_STATS")})
    try:
        _dbt_steps(suite, env)
        _tui_steps(suite, env)
    finally:
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
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
    args = parser.parse_args(argv)
    suite = run_suite(args)
    text = write_suite(suite, None if args.no_write else args.output)
    print(text)
    misses = [r.key for r in suite.rows if r.passed is False]
    log(f"{len(suite.rows)} rows, {len(misses)} missed targets: {', '.join(misses) or 'none'}")

if __name__ == "__main__":
    main()
