"""TUI benchmarks: launch to first frame, and event-loop stalls during a full build of the demo data.

    .venv/bin/python bench/bench_tui.py [--runs 5] [--size demo] [--write]

1. First frame: spawns the cockpit as `pipeline-tui` would (`tui.launch.build_app` on a built
   workspace, headless 80x24) and times from just before the spawn to the first painted frame;
   beside it, in the same run, `python -c 'import dbt.cli.main'` (what an app that imported dbt
   up front would pay before its first frame). Target: 0.4 s or less.
2. Stalls: the app runs headless in this process with a 10 ms heartbeat timer; the gaps between
   beats are measured while the app idles (baseline) and during a full `b` build of the demo data
   through the app's dbt client. Targets: max 100 ms, p99 30 ms.

`--write` puts the table into BENCHMARKS.md under `## TUI` (replacing that section only).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PY = sys.executable
BEAT_S = 0.010


def spawn_until(args: list[str], marker: str | None, env: dict) -> float:
    began = time.time()
    out = subprocess.run(args, capture_output=True, text=True, env=env, cwd=ROOT)
    if marker is None:
        if out.returncode != 0:
            raise RuntimeError(out.stderr[-400:])
        return time.time() - began
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith(marker)), None)
    if line is None:
        raise RuntimeError(f"no {marker} from child: {out.stderr[-600:]}")
    return float(line.split()[1]) - began


def first_frame(workspace_root: Path, runs: int) -> tuple[list[float], list[float]]:
    env = {**os.environ, "PIPELINE_TUI_WORKSPACE": str(workspace_root), "DO_NOT_TRACK": "1"}
    child = [PY, str(ROOT / "bench" / "tui_first_frame_child.py"), str(workspace_root)]
    frames = [spawn_until(child, "FIRST_FRAME", env) for _ in range(runs)]
    dbt_imports = [spawn_until([PY, "-c", "import dbt.cli.main"], None, env) for _ in range(runs)]
    return frames, dbt_imports


def prepare_workspace(root: Path, size: str):
    from tui.core.workspace import Workspace, ensure_demo_data

    workspace = Workspace.resolve(workspace=root)
    ensure_demo_data(workspace, lambda message, fraction=None: None, size=size)
    return workspace


async def heartbeat_gaps(app, until) -> list[float]:
    gaps, last = [], [time.perf_counter()]

    def beat() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        last[0] = now

    timer = app.set_interval(BEAT_S, beat)
    await until()
    timer.stop()
    return gaps[1:]


async def measure_stalls(workspace, idle_s: float) -> tuple[list[float], list[float], float, int]:
    from tui.launch import build_app

    app = build_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        while not (app.bridge and app.bridge.ready):
            await asyncio.sleep(0.05)
        while app.bridge.busy:  # a first-start build, if any
            await asyncio.sleep(0.05)
        idle = await heartbeat_gaps(app, lambda: asyncio.sleep(idle_s))
        began = time.perf_counter()

        async def build() -> None:
            await pilot.press("b")
            while not app.bridge.busy and app.view.finished is None:
                await asyncio.sleep(0.01)
            while app.bridge.busy or app.view.finished is None:
                await asyncio.sleep(0.01)

        busy = await heartbeat_gaps(app, build)
        return idle, busy, time.perf_counter() - began, app.view.done


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 2 else max(values)


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def table(frames, imports, idle, busy, build_s, nodes, client: str, size: str) -> str:
    med = statistics.median
    rows = [
        "| what | ours (median, min-max) | baseline in the same run | target | result |",
        "|---|---:|---:|---:|---|",
        f"| launch to first frame (headless 80x24, {len(frames)} runs) | {med(frames):.2f} s ({min(frames):.2f}-{max(frames):.2f})"
        f" | `import dbt.cli.main`: {med(imports):.2f} s ({min(imports):.2f}-{max(imports):.2f})"
        f" | ≤ 0.40 s | {'pass' if med(frames) <= 0.4 else 'miss'} |",
        f"| longest event-loop stall, full build of `{size}` data ({nodes} nodes, {build_s:.1f} s) | {ms(max(busy))}"
        f" | idle app: {ms(max(idle))} | ≤ 100 ms | {'pass' if max(busy) <= 0.1 else 'miss'} |",
        f"| p99 heartbeat gap during that build (10 ms timer) | {ms(p99(busy))} | idle app: {ms(p99(idle))}"
        f" | ≤ 30 ms | {'pass' if p99(busy) <= 0.03 else 'miss'} |",
    ]
    cpu = os.cpu_count()
    note = (f"\nMeasured by `bench/bench_tui.py` on {platform.machine()} with {cpu} cores (shared), Python "
            f"{platform.python_version()}; dbt client: {client}. Gaps are between beats of a 10 ms timer, "
            "so an idle app shows about 10 ms.\n")
    return "\n".join(rows) + "\n" + note


def write_section(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    section = "## TUI\n\n" + text
    pattern = re.compile(r"^## TUI\n.*?(?=^## |\Z)", re.S | re.M)
    updated = pattern.sub(lambda _: section + "\n", current) if pattern.search(current) else current.rstrip() + "\n\n" + section
    path.write_text(updated)


def client_name() -> str:
    try:
        import tui.core.worker  # noqa: F401

        return "persistent worker process (tui.core.worker)"
    except ImportError:
        return "stand-in: one dbt CLI subprocess per request (tui.core.cli_worker)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="demo")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle baseline")
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    args = parser.parse_args()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    with tempfile.TemporaryDirectory(prefix="bench_tui_") as tmp:
        workspace = prepare_workspace(Path(tmp), args.size)
        idle, busy, build_s, nodes = asyncio.run(measure_stalls(workspace, args.idle))
        frames, imports = first_frame(Path(tmp), args.runs)
    text = table(frames, imports, idle, busy, build_s, nodes, client_name(), args.size)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
