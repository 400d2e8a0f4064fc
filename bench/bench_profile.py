"""Triage profile of the claims table against DuckDB's `SUMMARIZE` of the same table.

`profile_rows(workspace, runs, table, label)` calls `bench/bench_triage.py`'s
`profile_vs_summarize` (owned by the triage engineer: the spec built from the manifest as triage
does, `profile_table` and `SUMMARIZE` interleaved on one read-only connection) on the suite's
workspace, and turns its figures into a suite row. Target: 1.5x or less.
"""

from __future__ import annotations

from bench.bench_common import Row, log
from bench.bench_triage import profile_vs_summarize  # owned by the triage engineer: called, not copied

TARGET = 1.5


def profile_rows(workspace, runs: int, table: str, label: str) -> list[Row]:
    result = profile_vs_summarize(workspace, table, runs)
    ours, summarize, ratio = result["profile_s"], result["summarize_s"], result["ratio"]
    log(f"profile of {table}: ratio {ratio:.2f}")
    return [Row("triage_profile", f"full triage profile of `{table}` ({result['rows']:,} rows, {result['columns']} "
                f"columns, split by delivery) {label}", "s", ours, summarize, "DuckDB `SUMMARIZE` of the same table",
                f"≤ {TARGET}x", ratio, ratio <= TARGET, "ratio = ours / SUMMARIZE; measured by bench_triage.profile_vs_summarize")]
