"""Generator throughput: rows per second for a baseline of about 1M claims (or --claims N).

    .venv/bin/python bench/bench_generator.py [--claims 1000000] [--days 10] [--out DIR]
                                              [--threads N] [--memory-limit 2GB]

Writes into a temporary folder (deleted afterwards unless --out is given) and prints one
Markdown table row for BENCHMARKS.md. Use --claims 20000000 --days 1 for the incident volume
(a 2-core machine needs a few minutes and about 4 GB of disk for that).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import tempfile
from pathlib import Path

from tui.core.generator import default_memory_limit, generate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=1_000_000, help="total new claims (all days)")
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--employees", type=int, default=50_000)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: one per core)")
    parser.add_argument("--memory-limit", default=None, help="DuckDB memory limit (default: the generator's)")
    args = parser.parse_args()
    out = args.out or Path(tempfile.mkdtemp(prefix="bench-gen-"))
    try:
        summary = generate(out, "baseline", companies=args.companies, employees=args.employees,
                           claims_per_day=args.claims // args.days, days=args.days, threads=args.threads,
                           memory_limit=args.memory_limit)
        size = sum(f.stat().st_size for f in out.rglob("*") if f.is_file())
    finally:
        if args.out is None:
            shutil.rmtree(out, ignore_errors=True)
    claims = summary.rows["claims"]
    print("| claims lines | all rows | seconds | claims/s | rows/s | MB written | cores |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {claims:,} | {summary.total_rows:,} | {summary.seconds:.2f} | {claims / summary.seconds:,.0f} "
          f"| {summary.total_rows / summary.seconds:,.0f} | {size / 1e6:,.0f} | {os.cpu_count()} |")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\n{platform.python_implementation()} {platform.python_version()}, {platform.machine()}; "
          f"peak RSS {peak_mib:,.0f} MiB; memory limit {args.memory_limit or default_memory_limit()}; "
          f"threads {args.threads or os.cpu_count()}; load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
