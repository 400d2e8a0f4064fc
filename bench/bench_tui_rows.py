"""Suite rows from the TUI benchmark (`bench/bench_tui.py`, owned by the TUI engineer; called, not copied):
launch to first frame against `python -c 'import dbt.cli.main'`, and the longest event-loop stall and
p99 heartbeat gap during a full build of the demo data against the idle app.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from contextlib import contextmanager
from pathlib import Path

from bench import bench_tui  # owned by the TUI engineer: called, not copied
from bench.bench_common import Row, median, ratio_of

FIRST_FRAME_TARGET_S = 0.4
STALL_MAX_TARGET_S = 0.100
STALL_P99_TARGET_S = 0.030


@contextmanager
def _environment(env: dict):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _stalls(workspace, builds: int) -> tuple[list[float], list[list[float]], int]:
    """Idle gaps, gaps per build, nodes: bench_tui.measure_stalls does several builds in one app
    (newer version, `builds` argument) or one build per call (older version)."""
    if "builds" in inspect.signature(bench_tui.measure_stalls).parameters:
        idle, per_build, _, nodes, *_ = asyncio.run(bench_tui.measure_stalls(workspace, 2.0, builds))
        return idle, per_build, nodes
    idle, per_build, nodes = [], [], 0
    for _ in range(builds):
        gaps_idle, busy, _, nodes = asyncio.run(bench_tui.measure_stalls(workspace, 2.0))
        idle += gaps_idle
        per_build.append(busy)
    return idle, per_build, nodes


def tui_rows(root: Path, size: str, runs: int, builds: int, env: dict) -> list[Row]:
    with _environment(env):
        workspace = bench_tui.prepare_workspace(root, size)
        idle, per_build, nodes = _stalls(workspace, builds)
        stalls_max, stalls_p99 = [max(b) for b in per_build], [bench_tui.p99(b) for b in per_build]
        idle_max, idle_p99 = [max(idle)], [bench_tui.p99(idle)]
        frames, imports, *_ = bench_tui.first_frame(root, runs)
    frame_ratio = ratio_of(frames, imports)
    return [
        Row("first_frame", "launch to first frame (headless 80x24)", "s", frames, imports,
            "`python -c 'import dbt.cli.main'`", f"≤ {FIRST_FRAME_TARGET_S} s", frame_ratio,
            median(frames) <= FIRST_FRAME_TARGET_S, "ratio = first frame / dbt import"),
        Row("stall_max", f"longest event-loop stall, full build of `{size}` data ({nodes} nodes)", "ms",
            stalls_max, idle_max, "idle app (10 ms heartbeat)", f"≤ {STALL_MAX_TARGET_S * 1000:.0f} ms",
            ratio_of(stalls_max, idle_max), max(stalls_max) <= STALL_MAX_TARGET_S,
            "per build: the longest gap between 10 ms beats; pass needs every build under the target"),
        Row("stall_p99", "p99 heartbeat gap during that build", "ms", stalls_p99, idle_p99,
            "idle app", f"≤ {STALL_P99_TARGET_S * 1000:.0f} ms", ratio_of(stalls_p99, idle_p99),
            median(stalls_p99) <= STALL_P99_TARGET_S, ""),
    ]
