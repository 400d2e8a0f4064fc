"""What each speed patch saves: a warm rebuild through the worker with every patch, against one without it.

Usage: `.venv/bin/python bench/bench_patches.py [--model dim_plans] [--runs 5] [--size test]
[--only name,name] [--json out.json]`

Generates the embedded project's raw feeds into a temporary workspace and builds it once. Then, for
each speed patch of the registry (`tui.core.dbt_host.patches`), starts a second warm worker with that
patch left out (`PIPELINE_TUI_PATCHES_OFF=<name>`) and times `build -s <model>` alternately on the
full worker and on that one (`--runs` pairs, after one untimed rebuild each), so both see the same
load. Also one worker with every speed patch out, for the total. Prints the dbt version, and per
patch what it saves per rebuild: the worker's CPU time (every thread, from /proc: 10 ms ticks,
summed over the runs), and the median of the paired wall-time differences with their range. On a
shared machine the wall times swing by hundreds of ms: the CPU figure is the steadier one; read both
as rough.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.bench_rebuild import dbt_versions  # noqa: E402
from tui.core.dbt_host.patches import PATCHES  # noqa: E402
from tui.core.dbt_host.patches.registry import OFF_ENV  # noqa: E402
from tui.core.dbt_host.worker import WorkerClient  # noqa: E402
from tui.core.workspace import Workspace, ensure_demo_data  # noqa: E402


def warm_worker(workspace: Workspace, off: str, model: str, setup: bool = False) -> WorkerClient:
    previous = os.environ.get(OFF_ENV)
    os.environ[OFF_ENV] = off
    try:
        client = WorkerClient(workspace)
        client.start()
    finally:
        os.environ.pop(OFF_ENV) if previous is None else os.environ.__setitem__(OFF_ENV, previous)
    client.wait_ready(timeout=300)
    if setup and client.run("build").status != "success":
        raise SystemExit("setup build failed")
    rebuild(client, model)  # untimed: the first rebuild links and compiles
    return client


def cpu_seconds(client: WorkerClient) -> float:
    """CPU time the worker process used so far, every thread (dbt's pool threads end per run: they count)."""
    fields = Path(f"/proc/{client._process.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rebuild(client: WorkerClient, model: str) -> tuple[float, float]:
    """(wall seconds, worker CPU seconds) of one `build -s model`."""
    began, cpu = time.perf_counter(), cpu_seconds(client)
    finished = client.run("build", select=model)
    if finished.status != "success":
        raise SystemExit(f"rebuild failed: {finished.error}")
    return time.perf_counter() - began, cpu_seconds(client) - cpu


def paired(full: WorkerClient, variant: WorkerClient, model: str, runs: int) -> dict:
    with_it, without = [], []
    for run in range(runs):
        order = (full, variant) if run % 2 == 0 else (variant, full)
        for client in order:
            (with_it if client is full else without).append(rebuild(client, model))
    wall = [b[0] - a[0] for a, b in zip(with_it, without)]
    cpu = sum(b[1] for b in without) - sum(a[1] for a in with_it)
    return {"with_s": statistics.median(a[0] for a in with_it), "without_s": statistics.median(b[0] for b in without),
            "wall_ms": 1000 * statistics.median(wall), "wall_min_ms": 1000 * min(wall),
            "wall_max_ms": 1000 * max(wall), "cpu_ms": 1000 * cpu / runs,
            "cpu_with_ms": 1000 * sum(a[1] for a in with_it) / runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="dim_plans")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="test")
    parser.add_argument("--only", default="", help="comma-separated patch names (default: every speed patch)")
    parser.add_argument("--group", action="append", default=[],
                        help="comma-separated names left out together in one worker (repeatable); with it, "
                             "only the groups are measured")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    speed = [p.name for p in PATCHES if p.purpose == "speed"]
    names = [n for n in args.only.split(",") if n] or speed
    variants = {g: g for g in args.group} if args.group else {**{n: n for n in names}, "all speed patches": ",".join(speed)}
    print(f"{dbt_versions()}; {args.runs} pairs of `build -s {args.model}`; load {os.getloadavg()[0]:.1f}")
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-patches-") as tmp:
        workspace = Workspace.resolve(workspace=tmp)
        ensure_demo_data(workspace, lambda message, fraction=None: None, size=args.size)
        full = warm_worker(workspace, "", args.model, setup=True)
        try:
            for name, off in variants.items():
                variant = warm_worker(workspace, off, args.model)
                try:
                    results[name] = paired(full, variant, args.model, args.runs)
                finally:
                    variant.close()
                r = results[name]
                print(f"{name[:60]:42s} CPU {r['cpu_ms']:5.0f} ms of {r['cpu_with_ms']:.0f} | wall {r['wall_ms']:5.0f} ms "
                      f"({r['wall_min_ms']:.0f} to {r['wall_max_ms']:.0f}); with {r['with_s']:.3f} s, "
                      f"without {r['without_s']:.3f} s", flush=True)
        finally:
            full.close()
    if args.json:
        args.json.write_text(json.dumps({"dbt": dbt_versions(), "runs": args.runs, "results": results}, indent=1))


if __name__ == "__main__":
    main()
