"""Shared pieces of the benchmark suite: result rows, statistics, measured child processes, workspaces.

- `Row`: one line of the suite's table (what, our samples, the baseline's samples, target, pass/miss).
- `measure_child(args, env)`: run a child process, return wall seconds, peak RSS (its VmHWM, polled
  while it runs) and its output: peak memory is the child's own high-water mark, not the machine's.
- `cli(workspace, *args)`: `pipeline-tui --workspace W ...` as a child (our headless CLI).
- `dbt_cli(workspace, *args)`: plain `dbt` as a child on the same project, profile and target path.
- `bench_env(...)`: the environment every child gets (telemetry off, memory limit, threads).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
DBT = str(Path(PY).with_name("dbt"))
PIPELINE_TUI = [PY, "-c", "from tui.cli import main; main()"]


@dataclass
class Row:
    """One benchmark row. `ours` / `baseline` are samples (seconds, rates...) of repeated runs."""

    key: str
    what: str
    unit: str  # s, ms, rows/s, x, MiB...
    ours: list[float]
    baseline: list[float] = field(default_factory=list)
    baseline_name: str = "—"
    target: str = ""
    ratio: float | None = None  # ours / baseline on medians (or the row's own figure of merit)
    passed: bool | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def spread(values: list[float], unit: str) -> str:
    """`median (min–max)` in the row's unit."""
    if not values:
        return "—"
    shown = [fmt(v, unit) for v in (median(values), min(values), max(values))]
    return shown[0] if len(values) == 1 else f"{shown[0]} ({shown[1]}–{shown[2]})"


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"
    if unit == "ms":
        return f"{value * 1000:.0f} ms"
    if unit in ("rows/s",):
        return f"{value / 1e6:.2f} M/s" if value >= 1e6 else f"{value / 1e3:.0f} k/s"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    return f"{value:.3g} {unit}".strip()


def ratio_of(ours: list[float], baseline: list[float]) -> float | None:
    if not ours or not baseline or median(baseline) == 0:
        return None
    return median(ours) / median(baseline)


@dataclass(frozen=True)
class ChildResult:
    seconds: float
    peak_rss_mib: float
    returncode: int
    stdout: str
    stderr: str


def measure_child(args: list[str], env: dict | None = None, cwd: Path = ROOT, timeout: float = 7200) -> ChildResult:
    """Run `args`; wall time from spawn to exit, and the child's own peak RSS (VmHWM)."""
    out_path = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-child-{os.getpid()}-{time.time_ns()}"
    with open(f"{out_path}.out", "w+") as out, open(f"{out_path}.err", "w+") as err:
        began = time.perf_counter()
        process = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=cwd)
        deadline, peak_kib = began + timeout, 0
        while True:
            peak_kib = max(peak_kib, _high_water_kib(process.pid))
            pid, status, _ = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                process.kill()
            time.sleep(0.005)
        seconds = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0), err.seek(0)
        result = ChildResult(seconds, peak_kib / 1024, process.returncode, out.read(), err.read())
    for suffix in (".out", ".err"):
        Path(f"{out_path}{suffix}").unlink(missing_ok=True)
    return result


def _high_water_kib(pid: int) -> int:
    """The process's own peak RSS (VmHWM) so far. Not wait4's ru_maxrss: after fork + exec, Linux
    carries the parent's high-water mark into the child's, so a child of a big parent looks big."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return next((int(line.split()[1]) for line in status if line.startswith("VmHWM:")), 0)
    except (OSError, ValueError):
        return 0


def bench_env(memory_limit: str | None = None, threads: int | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    env.update(DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="false", DBT_VERSION_CHECK="false",
               PYTHONPATH=str(ROOT))
    if memory_limit:
        env["PIPELINE_TUI_MEMORY_LIMIT"] = memory_limit
    if threads:
        env["PIPELINE_TUI_THREADS"] = str(threads)
    return env


def checked(result: ChildResult, what: str) -> ChildResult:
    if result.returncode != 0:
        tail = (result.stdout[-1500:] + "\n" + result.stderr[-1500:]).strip()
        raise RuntimeError(f"{what} failed (exit {result.returncode}): {tail}")
    return result


def cli(workspace, *args: str, env: dict | None = None, check: bool = True) -> ChildResult:
    """`pipeline-tui --workspace <root> <args>` in a child process."""
    result = measure_child([*PIPELINE_TUI, "--workspace", str(workspace.root), *args], env=env or bench_env())
    return checked(result, f"pipeline-tui {' '.join(args)}") if check else result


def dbt_cli_args(workspace, *args: str) -> list[str]:
    """Plain dbt on the workspace's project, profile, target and log paths (so partial parsing is shared)."""
    return [DBT, *args, "--project-dir", str(workspace.project_dir), "--profiles-dir", str(workspace.profiles_dir),
            "--target-path", str(workspace.target_path), "--log-path", str(workspace.log_path)]


def dbt_env(workspace, base: dict | None = None) -> dict[str, str]:
    """The embedded profile's variables for this workspace on top of `base` (our bench env)."""
    env = dict(base or bench_env())
    tuning = {k: env[k] for k in ("PIPELINE_TUI_THREADS", "PIPELINE_TUI_MEMORY_LIMIT") if k in env}
    env.update(workspace.dbt_env())
    env.update(tuning)
    return env


def repeat(runs: int, measure: Callable[[], float]) -> list[float]:
    return [measure() for _ in range(runs)]


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
