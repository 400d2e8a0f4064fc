"""Benchmark: full headless triage, and the triage profile of the claims table against DuckDB's own
`SUMMARIZE` of the same table, in the same run (target: profile <= 1.5x SUMMARIZE).

    .venv/bin/python bench/bench_triage.py --claims 1000000 [--repeat 3] [--workspace DIR] [--write]

Builds the embedded project on a clean baseline of N claims (10 daily feeds), stores its checks as
the baseline, adds the incident's partner feed (5x a day's claims, with its defects) and builds
again; then times `run_triage` (every playbook step, the dbt compile for the full-refresh compare
included) and, `--repeat` times each, `profile_table` and `SUMMARIZE` on `stg_benefits__claims` and
`fct_claims`. `--write` replaces the `## Triage` section of BENCHMARKS.md with the table.
`measure()` is importable by the benchmark suite.
"""

from __future__ import annotations

import argparse
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

from tui.core.checks.config import ChecksConfig  # noqa: E402
from tui.core.checks.profile import profile_table  # noqa: E402
from tui.core.checks.sql import open_warehouse  # noqa: E402
from tui.core.checks.targets import project_targets  # noqa: E402
from tui.core.checks.triage import run_checks, run_triage  # noqa: E402
from tui.core.generator import generate  # noqa: E402
from tui.core.project import load_project  # noqa: E402
from tui.core.workspace import Workspace  # noqa: E402

DAYS = 10
TABLES = ("stg_benefits__claims", "fct_claims", "benefits.claims")  # the last: the raw JSON-lines feed
CLI = [sys.executable, "-c", "from tui.cli import main; main()"]


def timed(fn) -> tuple[float, object]:
    started = time.perf_counter()
    value = fn()
    return time.perf_counter() - started, value


def build(root: Path) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    started = time.perf_counter()
    done = subprocess.run([*CLI, "--workspace", str(root), "build"], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"build failed: {(done.stdout + done.stderr).strip().splitlines()[-1:]}")
    return time.perf_counter() - started


def sizes(claims: int) -> dict:
    per_day = max(100, claims // DAYS)
    return dict(claims_per_day=per_day, days=DAYS, companies=max(10, claims // 5000), employees=max(500, claims // 20))


def prepare(root: Path, claims: int) -> dict:
    ws = Workspace.resolve(workspace=root).ensure_dirs()
    figures = {}
    figures["generate_baseline_s"], _ = timed(lambda: generate(ws.raw_dir, "baseline", **sizes(claims)))
    figures["build_baseline_s"] = build(root)
    figures["check_baseline_s"], _ = timed(lambda: run_checks(ws))
    figures["generate_incident_s"], _ = timed(lambda: generate(ws.raw_dir, "incident", **sizes(claims)))
    figures["build_incident_s"] = build(root)
    return figures


def profile_vs_summarize(ws: Workspace, table: str, repeat: int) -> dict:
    config = ChecksConfig.load()
    project = load_project(ws.target_path)
    runner = open_warehouse(ws.warehouse, file_search_path=ws.raw_dir)
    try:
        spec = next(s for s in project_targets(project, runner, config) if s.object == table)
        rows = runner.one(f"SELECT count(*) AS n FROM {spec.relation}", "rows")["n"]
        ours, theirs = [], []
        for _ in range(repeat):  # interleaved, so drift in machine load hits both alike
            theirs.append(timed(lambda: runner.rows(f"SUMMARIZE SELECT * FROM {spec.relation}", "summarize"))[0])
            ours.append(timed(lambda: profile_table(runner, spec, config))[0])
    finally:
        runner.close()
    return {"table": table, "rows": rows, "columns": len(spec.columns), "profile_s": ours, "summarize_s": theirs,
            "ratio": statistics.median(ours) / statistics.median(theirs)}


def measure(claims: int, workspace: Path | None = None, repeat: int = 3) -> dict:
    root = Path(workspace) if workspace else Path(tempfile.mkdtemp(prefix="bench-triage-"))
    figures = prepare(root, claims)
    ws = Workspace.resolve(workspace=root)
    triage_s = []
    for _ in range(max(1, repeat // 2)):
        seconds, (session, _) = timed(lambda: run_triage(ws))
        triage_s.append(seconds)
    steps = {s.result.step: s.result.seconds for s in session.steps.values() if s.result}
    tables = [profile_vs_summarize(ws, t, repeat) for t in TABLES]
    return {"claims": claims, "root": str(root), "prepare": figures, "triage_s": triage_s, "steps": steps,
            "tables": tables, "fails": sum(1 for f in session.findings() if f.status == "fail")}


def spread(values: list[float]) -> str:
    med = statistics.median(values)
    return f"{med:.2f}" if len(values) == 1 else f"{med:.2f} ({min(values):.2f}–{max(values):.2f})"


def markdown(result: dict) -> str:
    cores = os.cpu_count()
    import duckdb

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [f"`bench/bench_triage.py --claims {result['claims']:,}` ({cores} cores shared, load average {load}, Python "
             f"{platform.python_version()}, DuckDB {duckdb.__version__}): baseline of {result['claims']:,} claims "
             f"in {DAYS} daily feeds, then the incident's partner feed; medians (min–max) of interleaved runs.", "",
             "| what | ours (s) | DuckDB SUMMARIZE (s) | ratio | target | |", "|---|---:|---:|---:|---:|---|"]
    for t in result["tables"]:
        ok = "pass" if t["ratio"] <= 1.5 else "miss"
        lines.append(f"| triage profile of `{t['table']}` ({t['rows']:,} rows, {t['columns']} columns, split by delivery) "
                     f"| {spread(t['profile_s'])} | {spread(t['summarize_s'])} | {t['ratio']:.2f} | ≤ 1.5 | {ok} |")
    lines.append(f"| full headless triage (7 steps, {result['fails']} fails found) | {spread(result['triage_s'])} | — | — | — | |")
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in result["steps"].items())
    prep = ", ".join(f"{k.replace('_s', '')} {v:.1f}s" for k, v in result["prepare"].items())
    return "\n".join(lines + ["", f"Triage steps: {steps}.", f"Set-up (not part of the figures): {prep}."]) + "\n"


def write_section(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"## Triage\n\n{text}\n"
    pattern = re.compile(r"^## Triage\n.*?(?=^## |\Z)", re.S | re.M)
    updated = pattern.sub(section, current) if pattern.search(current) else current.rstrip() + "\n\n" + section
    path.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--write", action="store_true", help="replace the ## Triage section of BENCHMARKS.md")
    args = parser.parse_args()
    result = measure(args.claims, args.workspace, args.repeat)
    text = markdown(result)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
