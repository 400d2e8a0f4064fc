"""Warm rebuild of one model: the persistent worker (request -> RunFinished) vs `dbt build -s` as a subprocess.

Usage: `.venv/bin/python bench/bench_rebuild.py [--model dim_plans] [--runs 9] [--cli-runs 5] [--size test]
[--no-write] [--json out.json]`

In one run on the same machine and the same data: generates the embedded project's raw feeds
(`--size`, default `test`) into a temporary workspace, builds it once through the worker, then
times `build -s <model>` N times through the warm `WorkerClient` (what the TUI does on `r`) and
N times as a plain `dbt build -s <model>` subprocess (after one untimed CLI run, so the CLI gets
its partial-parse cache too). Prints the medians and the ratio, and writes the row into
BENCHMARKS.md under `## Warm rebuild` (the other sections are left alone).
Targets: at least 10x faster than the CLI, median at most 0.4 s.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tui.core.dbt_host.worker import WorkerClient  # noqa: E402
from tui.core.workspace import Workspace, ensure_demo_data, git_revision  # noqa: E402

SECTION = "## Warm rebuild"
TARGET_RATIO, TARGET_MEDIAN_S = 10.0, 0.4


def warm_times(workspace: Workspace, model: str, runs: int) -> list[float]:
    client = WorkerClient(workspace)
    client.start()
    try:
        client.wait_ready(timeout=300)
        setup = client.run("build")
        if setup.status != "success":
            raise SystemExit(f"setup build failed: {setup.error}")
        client.run("build", select=model)  # first rebuild after the full build: not timed
        times = []
        for _ in range(runs):
            began = time.perf_counter()
            finished = client.run("build", select=model)
            times.append(time.perf_counter() - began)
            if finished.status != "success":
                raise SystemExit(f"warm rebuild failed: {finished.error}")
        return times
    finally:
        client.close()


def cli_times(workspace: Workspace, model: str, runs: int) -> list[float]:
    dbt = str(Path(sys.executable).with_name("dbt"))
    args = [dbt, "build", "-s", model, "--project-dir", str(workspace.project_dir), "--profiles-dir",
            str(workspace.profiles_dir), "--target-path", str(workspace.root / "target_cli"),
            "--log-path", str(workspace.root / "logs_cli")]
    env = {**os.environ, **workspace.dbt_env(), "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    times = []
    for run in range(runs + 1):
        began = time.perf_counter()
        done = subprocess.run(args, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"dbt CLI failed:\n{done.stdout[-2000:]}")
        if run:  # the first run only fills the partial-parse cache
            times.append(time.perf_counter() - began)
    return times


def dbt_versions() -> str:
    """The dbt it ran (read from the installed metadata: `dbt --version` would query PyPI)."""
    from importlib import metadata

    return ", ".join(f"{name} {metadata.version(name)}" for name in ("dbt-core", "dbt-duckdb"))


def spread(times: list[float]) -> str:
    return f"{statistics.median(times):.3f} s ({min(times):.2f}–{max(times):.2f})"


def write_section(row: str, path: Path = REPO / "BENCHMARKS.md") -> None:
    header = ("`bench/bench_rebuild.py`: rebuild one model (`build -s <model>`, its tests included) through the\n"
              "warm worker process, from the request to its RunFinished, against the plain `dbt build -s <model>`\n"
              "subprocess on the same data and machine (the CLI after one untimed run, so with partial parsing).\n"
              "Median of N (min–max). Targets: ≥ 10x faster, median ≤ 0.4 s. The machine is 2 cores shared with\n"
              "other engineers' test runs (load average shown): absolute times drift, the ratio less.\n\n"
              "| date | revision | model | data | warm worker | dbt CLI | ratio | targets | load avg | dbt |\n"
              "|---|---|---|---|---:|---:|---:|---|---:|---|\n")
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n(.*?)(?=^## |\Z)", re.S | re.M)
    match = pattern.search(text)
    rows = [line for line in (match.group(1).splitlines() if match else []) if line.startswith("| 20")]
    body = f"{SECTION}\n\n{header}" + "\n".join([row, *rows][:10]) + "\n\n"
    text = pattern.sub(lambda _: body, text) if match else text.rstrip() + "\n\n" + body
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dim_plans")
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--cli-runs", type=int, default=5)
    parser.add_argument("--size", default="test", help="generator size preset (test, demo, large)")
    parser.add_argument("--no-write", action="store_true", help="print only; leave BENCHMARKS.md alone")
    parser.add_argument("--json", type=Path, help="also write every timing to this JSON file")
    args = parser.parse_args()
    versions = dbt_versions()
    print(versions)
    with tempfile.TemporaryDirectory(prefix="bench-rebuild-") as tmp:
        workspace = Workspace.resolve(workspace=tmp)
        ensure_demo_data(workspace, lambda message, fraction=None: print(message, file=sys.stderr), size=args.size)
        warm = warm_times(workspace, args.model, args.runs)
        cli = cli_times(workspace, args.model, args.cli_runs)
    ratio = statistics.median(cli) / statistics.median(warm)
    met = ratio >= TARGET_RATIO and statistics.median(warm) <= TARGET_MEDIAN_S
    load = os.getloadavg()[0]
    print(f"warm worker {spread(warm)} | dbt CLI {spread(cli)} | ratio {ratio:.1f}x | "
          f"targets {'met' if met else 'missed'} | load {load:.1f} | {versions}")
    row = (f"| {time.strftime('%Y-%m-%d %H:%M')} | {git_revision(REPO) or '-'} | `{args.model}` | {args.size} size | "
           f"{spread(warm)} | {spread(cli)} | **{ratio:.1f}x** | {'met' if met else 'missed'} | {load:.1f} | {versions} |")
    if args.json:
        args.json.write_text(json.dumps({"model": args.model, "size": args.size, "warm_s": warm, "cli_s": cli,
                                         "ratio": ratio, "targets_met": met, "load_avg": load, "dbt": versions,
                                         "revision": git_revision(REPO), "date": time.strftime("%Y-%m-%d %H:%M")}))
    if not args.no_write:
        write_section(row)


if __name__ == "__main__":
    main()
