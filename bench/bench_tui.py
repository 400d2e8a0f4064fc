"""TUI benchmarks: launch to first frame, and event-loop stalls during a full build of the demo data.

    .venv/bin/python bench/bench_tui.py [--runs 5] [--size demo] [--write]

1. First frame: spawns the cockpit as `pipeline-tui` would (`tui.launch.build_app` on a built
   workspace, headless 80x24) and times from just before the spawn to the first painted frame;
   beside it, in the same run, `python -c 'import dbt.cli.main'` (what an app that imported dbt
   up front would pay before its first frame) and an empty Textual app. Target: 0.4 s or less.
   Measured with bytecode compiled once (as a pip-installed package has it); when the environment
   sets PYTHONDONTWRITEBYTECODE (every launch then compiles our modules), a second row as is.
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


def first_frame(workspace_root: Path, runs: int, *,
                bytecode_cache: Path | None = None) -> tuple[list[float], list[float], list[float]]:
    """Launches to the first frame, `import dbt.cli.main`, empty app; interleaved. With `bytecode_cache`
    (a folder), the children keep compiled bytecode there as an installed package does (pip compiles
    at install), after one untimed launch of each; without it they run in this environment as is
    (with PYTHONDONTWRITEBYTECODE=1, as on the dev machines here, each launch compiles our modules)."""
    env = {**os.environ, "PIPELINE_TUI_WORKSPACE": str(workspace_root), "DO_NOT_TRACK": "1"}
    if bytecode_cache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache)
    child = [PY, str(ROOT / "bench" / "tui_first_frame_child.py"), str(workspace_root)]
    empty = [PY, str(ROOT / "bench" / "tui_first_frame_child.py"), "--empty"]
    dbt_import = [PY, "-c", "import dbt.cli.main"]
    if bytecode_cache is not None:
        spawn_until(child, "FIRST_FRAME", env), spawn_until(empty, "FIRST_FRAME", env), spawn_until(dbt_import, None, env)
    frames, dbt_imports, empties = [], [], []
    for _ in range(runs):  # interleaved, so load changes hit all three alike
        frames.append(spawn_until(child, "FIRST_FRAME", env))
        empties.append(spawn_until(empty, "FIRST_FRAME", env))
        dbt_imports.append(spawn_until(dbt_import, None, env))
    return frames, dbt_imports, empties


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


async def measure_stalls(workspace, idle_s: float, builds: int) -> tuple[list[float], list[list[float]], float, int]:
    """Heartbeat gaps while idle, then during `builds` full builds pressed with `b` in the same app."""
    from tui.launch import build_app

    app = build_app(workspace)
    async with app.run_test(size=(120, 40)) as pilot:
        while not (app.bridge and app.bridge.ready) or app.bridge.busy:
            await asyncio.sleep(0.05)
        idle = await heartbeat_gaps(app, lambda: asyncio.sleep(idle_s))
        per_build, seconds = [], []

        async def build() -> None:
            previous = app.view.run if app.view else None
            await pilot.press("b")
            while app.view is None or app.view.run is previous:
                await asyncio.sleep(0.01)
            while app.bridge.busy or app.view.finished is None:
                await asyncio.sleep(0.01)

        for _ in range(builds):
            began = time.perf_counter()
            per_build.append(await heartbeat_gaps(app, build))
            seconds.append(time.perf_counter() - began)
        nodes = app.view.done
        cancels = [await cancel_once(app, pilot) for _ in range(builds)]
        return idle, per_build, statistics.median(seconds), nodes, cancels


async def cancel_once(app, pilot) -> tuple[float, int]:
    """`c` a third into a build: seconds until the app shows the run ended, nodes started after the key."""
    previous = app.view.run
    await pilot.press("b")
    while app.view.run is previous or app.view.done < max(3, app.view.planned // 3):
        await asyncio.sleep(0.005)
    asked = time.time()
    await pilot.press("c")
    while app.bridge.busy or app.view.finished is None:
        await asyncio.sleep(0.005)
    took = time.time() - asked
    run_id = app.view.run.run_id
    late = sum(1 for s in app.view.nodes.values()  # skipped nodes carry a start time but never ran
               if s.current and s.current.run_id == run_id and (s.current.started_at or 0) > asked
               and s.status != "skipped")
    return took, late


def p99(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[98] if len(values) > 2 else max(values)


def ms(value: float) -> str:
    return f"{value * 1000:.0f} ms"


def spread(values: list[float]) -> str:
    return f"{ms(statistics.median(values))} ({ms(min(values))}-{ms(max(values))})"


def frame_row(frames, imports, empties, how: str) -> str:
    med = statistics.median
    return (f"| launch to first frame (headless 80x24, {len(frames)} runs; {how})"
            f" | {med(frames):.2f} s ({min(frames):.2f}-{max(frames):.2f})"
            f" | `import dbt.cli.main`: {med(imports):.2f} s ({min(imports):.2f}-{max(imports):.2f});"
            f" empty Textual app: {med(empties):.2f} s ({min(empties):.2f}-{max(empties):.2f})"
            f" | ≤ 0.40 s | {'pass' if med(frames) <= 0.4 else 'miss'} |")


def table(frame_rows: list[str], idle, builds, build_s, nodes, cancels, client: str, size: str) -> str:
    med = statistics.median
    stalls, p99s = [max(b) for b in builds], [p99(b) for b in builds]
    rows = [
        "| what | ours (median, min-max) | baseline in the same run | target | result |",
        "|---|---:|---:|---:|---|",
        *frame_rows,
        f"| longest event-loop stall per full build of `{size}` data ({nodes} nodes, {build_s:.1f} s; {len(builds)} builds)"
        f" | {spread(stalls)} | idle app: {ms(max(idle))} | ≤ 100 ms | {'pass' if med(stalls) <= 0.1 else 'miss'} |",
        f"| p99 heartbeat gap per build (10 ms timer) | {spread(p99s)} | idle app: {ms(p99(idle))}"
        f" | ≤ 30 ms | {'pass' if med(p99s) <= 0.03 else 'miss'} |",
        f"| cancel (`c` a third into a build) until the app shows the run ended; nodes started after the key"
        f" | {spread([c[0] for c in cancels])}; {'/'.join(str(c[1]) for c in cancels)} nodes | — | ≤ 250 ms; 0 nodes"
        f" | {'pass' if med([c[0] for c in cancels]) <= 0.25 and not any(c[1] for c in cancels) else 'miss'} |",
    ]
    cpu = os.cpu_count()
    load = os.getloadavg()[0]
    note = (f"\nMeasured by `bench/bench_tui.py` on {platform.machine()} with {cpu} cores shared with other work "
            f"(load average {load:.1f} at the end), Python {platform.python_version()}; dbt client: {client}. "
            "Gaps are between beats of a 10 ms timer, so an idle app shows about 10 ms; the build's own DuckDB "
            "threads compete with the UI for the 2 cores.\n")
    return "\n".join(rows) + "\n" + note


def write_section(text: str) -> None:
    path = ROOT / "BENCHMARKS.md"
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    section = "## TUI\n\n" + text
    pattern = re.compile(r"^## TUI\n.*?(?=^## |\Z)", re.S | re.M)
    updated = pattern.sub(lambda _: section + "\n", current) if pattern.search(current) else current.rstrip() + "\n\n" + section
    path.write_text(updated)


def client_name() -> str:
    return "persistent worker process (tui.core.dbt_host.worker.WorkerClient, views counted)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--size", default="demo")
    parser.add_argument("--idle", type=float, default=3.0, help="seconds of idle baseline")
    parser.add_argument("--builds", type=int, default=3, help="full builds measured for stalls")
    parser.add_argument("--write", action="store_true", help="write the table into BENCHMARKS.md")
    args = parser.parse_args()
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Workers of the apps measured may still be stopping when the folder goes: ignore leftovers.
    with tempfile.TemporaryDirectory(prefix="bench_tui_", ignore_cleanup_errors=True) as tmp:
        workspace = prepare_workspace(Path(tmp), args.size)
        idle, builds, build_s, nodes, cancels = asyncio.run(measure_stalls(workspace, args.idle, args.builds))
        frame_rows = [frame_row(*first_frame(Path(tmp), args.runs, bytecode_cache=Path(tmp) / "pycache"),
                                "bytecode compiled once, as installed")]
        if os.environ.get("PYTHONDONTWRITEBYTECODE"):
            frame_rows.append(frame_row(*first_frame(Path(tmp), args.runs),
                                        "PYTHONDONTWRITEBYTECODE=1: every launch compiles our modules"))
    text = table(frame_rows, idle, builds, build_s, nodes, cancels, client_name(), args.size)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
