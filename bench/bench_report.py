"""The suite's Markdown: one table per scale with the machine, versions and load, written into
BENCHMARKS.md under `## Suite` / `### <scale> scale`; every other section of the file is kept as is.
"""

from __future__ import annotations

import os
import platform
import re
import time
from importlib import metadata
from pathlib import Path

from bench.bench_common import Row, spread

SUITE_HEADING = "## Suite"
SUITE_INTRO = """## Suite

`.venv/bin/python -m bench.run --scale small|incident` (or `.venv/bin/python bench/run.py --scale ...`)
runs every row below. Each figure is the median of repeated runs (min–max in brackets) and every
baseline is measured in the same run, on the same data, right beside ours: the machine is 2 cores
shared with other engineers running tests, so absolute times drift and only the ratios mean much.
Ratios: see each row's target for which way round. Data lives under /tmp/bench-data while it runs.
"""
PACKAGES = ("dbt-core", "dbt-duckdb", "duckdb", "textual")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def machine_line() -> str:
    memory = "?"
    try:
        kib = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
        memory = f"{kib / 1024 / 1024:.0f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    load = " / ".join(f"{x:.1f}" for x in os.getloadavg())
    versions = ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
    return (f"Machine: {platform.machine()}, {os.cpu_count()} cores (shared), {memory} RAM, load average "
            f"{load} at the end; Python {platform.python_version()}, {versions}.")


def _ratio(row: Row) -> str:
    return "—" if row.ratio is None else f"{row.ratio:.2f}"


def _result(row: Row) -> str:
    if row.key.endswith("_error"):
        return "**error**"
    return {True: "pass", False: "**miss**", None: "—"}[row.passed]


def table(rows: list[Row]) -> str:
    lines = ["| what | ours: median (min–max) | baseline in the same run | ratio | target | result |",
             "|---|---:|---:|---:|---|---|"]
    for row in rows:
        baseline = f"{row.baseline_name}: {spread(row.baseline, row.unit)}" if row.baseline else row.baseline_name
        lines.append(f"| {row.what} | {spread(row.ours, row.unit)} | {baseline} | {_ratio(row)} | {row.target} "
                     f"| {_result(row)} |")
    notes = [f"- `{row.key}`: {row.note}" for row in rows if row.note]
    return "\n".join(lines) + ("\n\n" + "\n".join(notes) if notes else "") + "\n"


def scale_section(suite) -> str:
    runs = suite.config
    minutes = ((suite.finished or time.time()) - suite.started) / 60
    parts = [f"### {suite.scale} scale\n",
             f"Run {time.strftime('%Y-%m-%d %H:%M', time.localtime(suite.started))} at revision {suite.revision}, "
             f"{minutes:.0f} min; "
             f"data {suite.label}; repetitions: {runs['runs']} (quick rows), {runs['heavy_runs']} (builds, "
             f"incremental), {runs['gen_runs']} (generation), {runs['cancel_runs']} (cancel); DuckDB memory_limit "
             f"{runs['memory_limit'] or 'default (80%)'}.\n", (suite.machine or machine_line()) + "\n", table(suite.rows)]
    if "regression" in suite.extras:
        parts.append("\nDESIGN.md regression, model by model (history medians of the baseline builds against the "
                     "incident build):\n\n" + suite.extras["regression"])
    return "\n".join(parts)


def write_suite(suite, path: Path | None) -> str:
    text = scale_section(suite)
    if path is not None:
        current = path.read_text() if path.exists() else "# Benchmarks\n"
        path.write_text(replace_scale(current, suite.scale, text))
    return text


def replace_scale(document: str, scale: str, text: str) -> str:
    """Put `text` as the `### <scale> scale` subsection of `## Suite`, creating the section if needed."""
    suite = re.search(r"^## Suite\n.*?(?=^## |\Z)", document, re.S | re.M)
    if suite is None:
        document = document.rstrip() + "\n\n" + SUITE_INTRO
        suite = re.search(r"^## Suite\n.*?(?=^## |\Z)", document, re.S | re.M)
    body = suite.group(0)
    heading = re.compile(rf"^### {re.escape(scale)} scale\n.*?(?=^### |\Z)", re.S | re.M)
    if heading.search(body):
        body = heading.sub(lambda _: text.rstrip() + "\n\n", body)
    else:
        body = body.rstrip() + "\n\n" + text.rstrip() + "\n\n"
    return document[:suite.start()] + body + document[suite.end():]
