"""The embedded project's SQL passes sqlfluff with the rules in dbt/.sqlfluff (dbt templater, duckdb
dialect): zero violations. The dbt templater compiles the models, and the base models list the raw
files while compiling, so it runs on freshly generated feeds, with its own warehouse and target."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from dbt_workspace_run import PROJECT_DIR

from tui.core.generator import generate

pytestmark = pytest.mark.slow

LINTED = ("models", "snapshots", "tests")


def test_sql_lints_clean_with_the_committed_rules(tmp_path):
    generate(tmp_path / "raw", "baseline", size="test", days=2)
    env = {**os.environ, "PIPELINE_TUI_RAW_DIR": str(tmp_path / "raw"), "DO_NOT_TRACK": "1",
           "PIPELINE_TUI_WAREHOUSE": str(tmp_path / "lint.duckdb"), "DBT_TARGET_PATH": str(tmp_path / "target"),
           "DBT_LOG_PATH": str(tmp_path / "logs")}
    done = subprocess.run([sys.executable, "-m", "sqlfluff", "lint", *LINTED, "--format", "json", "--nofail"],
                          cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    files = json.loads(done.stdout)
    assert len(files) >= 25, [f["filepath"] for f in files]  # every model, the snapshot and the data test
    violations = [f"{f['filepath']}:{v['start_line_no']} {v['code']} {v['description']}"
                  for f in files for v in f["violations"]]
    assert violations == []
