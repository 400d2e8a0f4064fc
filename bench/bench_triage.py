"""Benchmark: full headless triage, and the triage profile of the claims table against DuckDB's own
`SUMMARIZE` of the same table, in the same run (target: profile <= 1.5x SUMMARIZE).

    .venv/bin/python bench/bench_triage.py --claims 1000000 [--repeat 3] [--workspace DIR] [--json OUT]
    .venv/bin/python bench/bench_triage.py --raw-from /tmp/incident-raw --workspace DIR \
        --tables stg_benefits__claims,fct_claims --json OUT      # 4M baseline day + 20M partner feed

`--claims N`: builds the embedded project on a clean baseline of N claims (10 daily feeds), stores
its checks as the baseline, adds the incident's partner feed (5x a day's claims, with its defects)
and builds again. `--raw-from DIR`: an incident folder generated earlier (`pipeline-tui fixtures
generate --scenario incident`); its clean baseline is regenerated at the same sizes and seed, built
and checked, then DIR's feeds are hard-linked in (never written to) and built. `--prepared`: the
workspace is already built that way; only measure. Builds and triage honour
PIPELINE_TUI_MEMORY_LIMIT / PIPELINE_TUI_THREADS.

Then it times `pipeline-tui triage` as a user runs it (a subprocess: every playbook step, the dbt
compile for the full-refresh compare included; the seconds of each step and check family come from
its findings JSON) and, `--repeat` times each, interleaved, `profile_table` and `SUMMARIZE` on each
of `--tables`. `--write` replaces the `## Triage` section of BENCHMARKS.md with the table.
`measure()` and `profile_vs_summarize()` are importable by the benchmark suite.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
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
from tui.core.checks.triage import run_checks  # noqa: E402
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


KEPT_ENV = ("PIPELINE_TUI_MEMORY_LIMIT", "PIPELINE_TUI_THREADS")


def child_env() -> dict:
    return {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_") or k in KEPT_ENV}


def build(root: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run([*CLI, "--workspace", str(root), "build"], capture_output=True, text=True, env=child_env())
    if done.returncode not in (0, 1):  # 1: a data test failed, expected on the incident data
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


def prepare_from(root: Path, raw_from: Path) -> dict:
    """The clean baseline of a prepared incident folder, built and checked; then its feeds, built."""
    meta = json.loads((raw_from / "generator.json").read_text())
    ws = Workspace.resolve(workspace=root).ensure_dirs()
    figures = {}
    figures["generate_baseline_s"], _ = timed(lambda: generate(ws.raw_dir, "baseline", seed=meta["seed"],
                                                               start_date=meta["start_date"], **meta["sizes"]))
    figures["build_baseline_s"] = build(root)
    figures["check_baseline_s"], _ = timed(lambda: run_checks(ws))
    shutil.rmtree(ws.raw_dir)
    shutil.copytree(raw_from, ws.raw_dir, copy_function=_link_big)
    figures["build_incident_s"] = build(root)
    return figures


def _link_big(source: str, target: str) -> None:
    """Hard-link big feed files (read-only here), copy small ones."""
    if os.path.getsize(source) > 1 << 20:
        os.link(source, target)
    else:
        shutil.copy2(source, target)


def headless_triage(root: Path, out: Path) -> tuple[float, dict]:
    """`pipeline-tui triage --json --report`, timed from spawn to exit, and its findings JSON. Its
    per-step progress lines go to `out/triage.log` as they come (a 20M-row triage takes a while)."""
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with (out / "triage.log").open("w") as log:
        done = subprocess.run([*CLI, "--workspace", str(root), "triage", "--json", str(out / "findings.json"),
                               "--report", str(out / "incident.md")], stdout=log, stderr=subprocess.STDOUT, env=child_env())
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"triage failed: {(out / 'triage.log').read_text().strip().splitlines()[-3:]}")
    return seconds, json.loads((out / "findings.json").read_text())


def profile_vs_summarize(ws: Workspace, table: str, repeat: int) -> dict:
    config = ChecksConfig.load()
    project = load_project(ws.target_path)
    runner = open_warehouse(ws.warehouse, file_search_path=ws.raw_dir,
                            memory_limit=os.environ.get("PIPELINE_TUI_MEMORY_LIMIT") or None)
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


def measure(claims: int | None, workspace: Path | None = None, repeat: int = 3, *, raw_from: Path | None = None,
            prepared: bool = False, tables: tuple[str, ...] = TABLES, triage: bool = True) -> dict:
    root = Path(workspace) if workspace else Path(tempfile.mkdtemp(prefix="bench-triage-"))
    figures = {} if prepared else prepare_from(root, raw_from) if raw_from else prepare(root, claims)
    ws = Workspace.resolve(workspace=root)
    triage_s, findings = [], {}
    for run in range(max(1, repeat // 2) if triage else 0):
        seconds, findings = headless_triage(root, root / "bench-triage" / str(run))
        triage_s.append(seconds)
    steps = {s["step"]: s["seconds"] for s in findings.get("steps", [])}
    families = {f: v for s in findings.get("steps", []) for f, v in s.get("family_seconds", {}).items()}
    measured = [profile_vs_summarize(ws, t, repeat) for t in tables]
    return {"claims": claims or measured[0]["rows"], "raw_from": str(raw_from or ""), "prepared": prepared,
            "root": str(root), "prepare": figures,
            "triage_s": triage_s, "steps": steps, "families": families, "tables": measured,
            "fails": findings.get("counts", {}).get("fail", 0), "warns": findings.get("counts", {}).get("warn", 0),
            "fail_findings": sorted({(f["check"], f["object"], f["column"] or "") for f in findings.get("findings", [])
                                     if f["status"] == "fail"}),
            "load_average": os.getloadavg()}


def spread(values: list[float]) -> str:
    med = statistics.median(values)
    return f"{med:.2f}" if len(values) == 1 else f"{med:.2f} ({min(values):.2f}–{max(values):.2f})"


def markdown(result: dict) -> str:
    cores = os.cpu_count()
    import duckdb

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    data = (f"`--raw-from {result['raw_from']}`: its clean baseline, then its feeds" if result["raw_from"] else
            f"`--prepared --workspace {result['root']}`" if result.get("prepared") else
            f"`--claims {result['claims']:,}`: baseline of {result['claims']:,} claims in {DAYS} daily feeds, then the incident's partner feed")
    lines = [f"`bench/bench_triage.py` {data} ({cores} cores shared, load average {load}, Python "
             f"{platform.python_version()}, DuckDB {duckdb.__version__}); medians (min–max) of interleaved runs.", "",
             "| what | ours (s) | DuckDB SUMMARIZE (s) | ratio | target | |", "|---|---:|---:|---:|---:|---|"]
    for t in result["tables"]:
        ok = "pass" if t["ratio"] <= 1.5 else "miss"
        lines.append(f"| triage profile of `{t['table']}` ({t['rows']:,} rows, {t['columns']} columns, split by delivery) "
                     f"| {spread(t['profile_s'])} | {spread(t['summarize_s'])} | {t['ratio']:.2f} | ≤ 1.5 | {ok} |")
    if result["triage_s"]:
        lines.append(f"| full headless triage ({len(result['steps'])} steps, {result['fails']} fails found) | {spread(result['triage_s'])} | — | — | — | |")
    steps = ", ".join(f"{k} {v:.1f}s" for k, v in result["steps"].items())
    families = ", ".join(f"{k} {v:.1f}s" for k, v in sorted(result["families"].items(), key=lambda kv: -kv[1]))
    prep = ", ".join(f"{k.replace('_s', '')} {v:.1f}s" for k, v in result["prepare"].items())
    return "\n".join(lines + ["", f"Triage steps: {steps}.", f"Check families: {families}.",
                              f"Set-up (not part of the figures): {prep}."]) + "\n"


def write_section(text: str, path: Path = ROOT / "BENCHMARKS.md") -> None:
    current = path.read_text() if path.exists() else "# Benchmarks\n"
    section = f"## Triage\n\n{text}\n"
    pattern = re.compile(r"^## Triage\n.*?(?=^## |\Z)", re.S | re.M)
    updated = pattern.sub(section, current) if pattern.search(current) else current.rstrip() + "\n\n" + section
    path.write_text(updated)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--raw-from", type=Path, help="incident raw folder generated earlier (read only)")
    parser.add_argument("--prepared", action="store_true", help="the workspace is already built: only measure")
    parser.add_argument("--tables", default=",".join(TABLES), help="comma-separated objects to profile vs SUMMARIZE")
    parser.add_argument("--no-triage", action="store_true", help="only the profiles against SUMMARIZE")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workspace", type=Path)
    parser.add_argument("--json", type=Path, help="write the figures here")
    parser.add_argument("--write", action="store_true", help="replace the ## Triage section of BENCHMARKS.md")
    args = parser.parse_args()
    if args.raw_from and not (args.raw_from / ".complete").exists() and not (args.raw_from / "generator.json").exists():
        raise SystemExit(f"{args.raw_from} is not a finished generator folder")
    result = measure(None if args.raw_from or args.prepared else args.claims, args.workspace, args.repeat, raw_from=args.raw_from,
                     prepared=args.prepared, tables=tuple(t for t in args.tables.split(",") if t),
                     triage=not args.no_triage)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, default=str))
    text = markdown(result)
    print(text)
    if args.write:
        write_section(text)


if __name__ == "__main__":
    main()
