"""Smoke test of the benchmark suite: `bench/run.py --scale small --runs 1` runs end to end and
produces every row of issue 6 with numbers. No timing assertions (performance targets live in
bench/ and BENCHMARKS.md, never in tests); BENCHMARKS.md is not touched (--no-write).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # bench/ is not part of the installed package

# Every row of the table, the regression reproduction, and the memory figure.
EXPECTED_ROWS = {
    "warm_rebuild", "cold_rebuild", "full_build", "full_build_memory", "incremental", "incremental_merge",
    "generate_jsonl", "generate_csv", "generate_json", "generate_all", "first_frame", "stall_max", "stall_p99",
    "cancel", "triage_profile", "regression",
}
ROWS_WITHOUT_BASELINE = {"cancel", "generate_all"}


@pytest.fixture(scope="module")
def suite(tmp_path_factory) -> dict:
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "suite.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    try:  # a guard against a hang, not a timing assertion: about 2.5 min alone, over 10 min on a starved machine
        done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--scale", "small", "--runs", "1",
                               "--no-write", "--json", str(out), "--data-dir", str(tmp / "data")],
                              capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800)
    except subprocess.TimeoutExpired as stuck:
        pytest.fail(f"the small suite did not end in 30 min; its last lines:\n{(stuck.stderr or b'')[-3000:]!r}")
    assert done.returncode == 0, done.stderr[-3000:]
    return {"data": json.loads(out.read_text()), "stdout": done.stdout, "tmp": tmp}


def _numbers(values) -> bool:
    return bool(values) and all(isinstance(v, (int, float)) and math.isfinite(v) and v >= 0 for v in values)


def test_every_row_is_produced_without_errors(suite):
    keys = [row["key"] for row in suite["data"]["rows"]]
    errors = [row["note"] for row in suite["data"]["rows"] if row["key"].endswith("_error")]
    assert errors == []
    assert set(keys) == EXPECTED_ROWS


def test_every_row_has_numbers_for_ours_and_its_baseline(suite):
    for row in suite["data"]["rows"]:
        assert _numbers(row["ours"]), row
        if row["key"] not in ROWS_WITHOUT_BASELINE:
            assert _numbers(row["baseline"]), row
            assert row["ratio"] is not None and math.isfinite(row["ratio"]) and row["ratio"] > 0, row
        assert row["passed"] in (True, False, None), row


def test_the_printed_table_has_one_line_per_row_and_the_machine(suite):
    lines = suite["stdout"].splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| what |"))
    end = next(i for i in range(start, len(lines)) if not lines[i].startswith("|"))
    assert end - start - 2 == len(suite["data"]["rows"])  # header and rule, then one line per row
    assert "cores (shared)" in suite["stdout"] and "duckdb" in suite["stdout"]


def test_the_regression_reproduction_names_the_exploding_join(suite):
    row = next(r for r in suite["data"]["rows"] if r["key"] == "regression")
    assert "int_claims_matched_to_coverage" in row["note"]
    assert "| model | baseline median | incident |" in suite["data"]["extras"]["regression"]


def test_the_data_folder_is_removed_afterwards(suite):
    assert not (suite["tmp"] / "data" / "small").exists()


def test_the_suite_section_replaces_only_its_own_scale():
    from bench.bench_report import replace_scale

    document = "# Benchmarks\n\n## Generator\n\nkeep me\n\n## Suite\n\nintro\n\n### small scale\n\nold\n\n### incident scale\n\nbig\n\n## TUI\n\nkeep too\n"
    updated = replace_scale(document, "small", "### small scale\n\nnew\n")
    assert "new" in updated and "old" not in updated
    assert "keep me" in updated and "keep too" in updated and "big" in updated
    assert updated.index("## Suite") < updated.index("new") < updated.index("### incident scale") < updated.index("## TUI")


def test_saved_runs_merge_with_later_rows_winning(tmp_path):
    from bench.bench_common import Row
    from bench.run import suite_from_json

    def saved(name: str, rows: list[Row], started: float) -> Path:
        path = tmp_path / name
        path.write_text(json.dumps({"scale": "incident", "started": started, "config": {"label": "x"},
                                    "rows": [r.to_dict() for r in rows], "extras": {}}))
        return path

    first = saved("a.json", [Row("full_build", "build", "s", [10.0], [5.0], ratio=2.0),
                             Row("cancel", "cancel", "ms", [0.05])], 1000.0)
    later = saved("b.json", [Row("full_build", "build", "s", [6.0], [5.0], ratio=1.2)], 2000.0)
    suite = suite_from_json([first, later])
    rows = {row.key: row for row in suite.rows}
    assert rows["full_build"].ours == [6.0] and "re-measured in a later run" in rows["full_build"].note
    assert rows["cancel"].ours == [0.05] and rows["cancel"].note == ""
    assert suite.started == 1000.0
