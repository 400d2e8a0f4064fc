"""Generator write rate per format against DuckDB writing `range()` rows of the same width.

`generate_timed(out_dir, scenario, **sizes)` runs `tui.core.generator.generate` with its entity COPY
calls, each daily claims file and the partner feed timed (wrapping them, the generator itself is
untouched), and returns rows, seconds and bytes per format: `csv` (companies, employees,
enrollments), `json` (plans.json array), `jsonl` (claims feeds). `raw_write_rate(fmt, rows, width,
fields)` is the baseline: DuckDB writing `rows` rows of `fields` text columns whose serialised width
matches the generator's average line, to the same format. Ratio = our rows/s over the baseline's;
the target is at least 0.5. DuckDB 2.0 reads `range()` on one thread, so that baseline writes on one
core; the generator splits each claims file across threads (see `tui.core.generator_claims`).
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from bench.bench_common import Row, median

FORMATS = {".csv": "csv", ".json": "json", ".jsonl": "jsonl"}
FIELDS = {"csv": 8, "json": 8, "jsonl": 10}  # typical column count of each format's feeds
TARGET = 0.5


@dataclass
class FormatTiming:
    rows: int = 0
    seconds: float = 0.0
    bytes: int = 0
    files: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    @property
    def width(self) -> float:
        return self.bytes / self.rows if self.rows else 0.0


@contextlib.contextmanager
def _timed_generator(timings: dict[str, FormatTiming]):
    """Wrap the generator's file writers to time each written file: the entity COPY helper, each
    daily claims file and the partner feed (whole calls: drawing, writing, joining the parts and,
    for the partner feed, its ground truth)."""
    from tui.core import generator, generator_defects

    copy, day, partner = generator._copy, generator._write_claims_day, generator_defects.write_partner_feed

    def timed_copy(con, query, path, options):
        began = time.perf_counter()
        rows = copy(con, query, path, options)
        _add(timings, Path(path), rows, time.perf_counter() - began)
        return rows

    def timed_day(con, params, out, day_index, rows):
        before, began = rows["claims"], time.perf_counter()
        name = day(con, params, out, day_index, rows)
        _add(timings, Path(out) / name, rows["claims"] - before, time.perf_counter() - began)
        return name

    def timed_partner(con, params, out, settings, days, rows, files):
        before, count = rows["claims"], len(files)
        began = time.perf_counter()
        truth = partner(con, params, out, settings, days, rows, files)
        for name in files[count:]:
            _add(timings, Path(out) / name, rows["claims"] - before, time.perf_counter() - began)
        return truth

    generator._copy, generator._write_claims_day = timed_copy, timed_day
    generator_defects.write_partner_feed = timed_partner
    try:
        yield
    finally:
        generator._copy, generator._write_claims_day, generator_defects.write_partner_feed = copy, day, partner


def _add(timings: dict[str, FormatTiming], path: Path, rows: int, seconds: float) -> None:
    fmt = FORMATS.get(path.suffix)
    if fmt is None:
        return
    timing = timings.setdefault(fmt, FormatTiming())
    timing.rows += int(rows)
    timing.seconds += seconds
    timing.bytes += path.stat().st_size if path.is_file() else 0
    timing.files.append(path.name)


def generate_timed(out_dir: Path, scenario: str, **sizes) -> tuple[object, dict[str, FormatTiming]]:
    from tui.core.generator import generate

    timings: dict[str, FormatTiming] = {}
    with _timed_generator(timings):
        summary = generate(out_dir, scenario, **sizes)
    return summary, timings


def raw_write_rate(fmt: str, rows: int, width: float, fields: int, memory_limit: str | None = None) -> float:
    """Rows per second of DuckDB writing `range(rows)` rows of the same serialised width and format."""
    overhead = {"csv": 1, "json": 8, "jsonl": 8}[fmt]  # separators (and quotes, keys) per field
    per_field = max(1, int((width - 2 - overhead * fields) / fields))
    columns = ", ".join(f"lpad(cast(i + {k} as varchar), {per_field}, 'x') as c{k}" for k in range(fields))
    options = {"csv": "format csv, header", "json": "format json, array true", "jsonl": "format json"}[fmt]
    with tempfile.TemporaryDirectory(prefix="bench-raw-") as tmp:
        con = duckdb.connect(config={"temp_directory": tmp})
        con.execute("set enable_progress_bar = false")
        if memory_limit:
            con.execute(f"set memory_limit = '{memory_limit}'")
        began = time.perf_counter()
        con.execute(f"copy (select {columns} from range({rows}) t(i)) to '{tmp}/out.{fmt}' ({options})")
        seconds = time.perf_counter() - began
        con.close()
    return rows / seconds


def generator_rows(runs: list[dict[str, FormatTiming]], totals: list[tuple[int, float]],
                   memory_limit: str | None, label: str) -> list[Row]:
    """One row per format (ours vs the raw write of the same rows/width), plus the whole dataset."""
    rows = []
    for fmt in ("jsonl", "csv", "json"):
        timings = [t[fmt] for t in runs if fmt in t]
        if not timings:
            continue
        ours = [t.rate for t in timings]
        base = [raw_write_rate(fmt, t.rows, t.width, FIELDS[fmt], memory_limit) for t in timings]
        first = timings[0]
        ratio = median(ours) / median(base)
        rows.append(Row(f"generate_{fmt}", f"generate {label}: {fmt} ({first.rows:,} rows, "
                        f"{first.bytes / 1e6:,.0f} MB, {first.width:.0f} B/row)", "rows/s", ours, base,
                        f"DuckDB `COPY range()` rows of {first.width:.0f} B to {fmt}", f"≥ {TARGET} of the raw rate",
                        ratio, ratio >= TARGET, "ratio = ours / raw write rate (higher is better)"))
    overall = [rows_ / seconds for rows_, seconds in totals]
    rows.append(Row("generate_all", f"generate {label}: whole dataset incl. setup ({totals[0][0]:,} rows)",
                    "rows/s", overall, note="wall time of generate(), every feed; no baseline (see the per-format rows)"))
    return rows
