"""`pipeline-tui deprecations` on the embedded project, built and checked (triage_workspaces), and the
hard drop in a copy of the project. Expected values come from the project's YAML files and straight
SQL on the warehouse, not from the code under test."""

from __future__ import annotations

import json
import shutil
import sys
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core" / "checks"))
from triage_workspaces import baseline_root, copy_of  # noqa: E402

from tui.cli import app  # noqa: E402
from tui.core.workspace import embedded_project_dir  # noqa: E402

pytestmark = pytest.mark.slow
WEEKLY = """-- Weekly claim totals per company, from the daily mart that replaced fct_claims_daily.
with daily as (

    select * from {{ ref('fct_company_daily_claims') }}

),

final as (

    select
        cast(company_id || ':' || date_trunc('week', claim_date)::date as varchar) as company_week_id,
        cast(company_id as bigint) as company_id,
        cast(date_trunc('week', claim_date) as date) as week_start,
        cast(sum(claim_count) as bigint) as claim_count,
        cast(sum(total_amount) as decimal(18, 2)) as total_amount
    from daily
    group by company_id, date_trunc('week', claim_date)

)

select * from final
"""


def invoke(root: Path, *args: str, project: Path | None = None, input: str | None = None):
    extra = ["--project-dir", str(project)] if project else []
    return CliRunner().invoke(app, ["--workspace", str(root), *extra, *args], input=input)


def declared_deprecations(project: Path) -> dict[str, dict]:
    """Models with a deprecation_date or a `deprecated` tag, read from the YAML files."""
    found = {}
    for path in (project / "models").rglob("*.yml"):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models", []):
            config = model.get("config") or {}
            if model.get("deprecation_date") or "deprecated" in (config.get("tags") or []):
                found[model["name"]] = model
    return found


def has_table(warehouse: Path, name: str) -> bool:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("SELECT count(*) FROM duckdb_tables() WHERE table_name = ?", [name]).fetchone()[0] == 1


def test_deprecations_lists_the_embedded_projects_deprecated_model():
    root = copy_of(baseline_root(), "deprecations")
    declared = declared_deprecations(embedded_project_dir())
    done = invoke(root, "deprecations", "--json")
    assert done.exit_code == 0, done.output
    document = json.loads(done.stdout)
    assert [d["name"] for d in document] == sorted(declared) == ["fct_claims_daily"]
    daily = document[0]
    model = declared["fct_claims_daily"]
    when = date.fromisoformat(str(model["deprecation_date"]))
    assert daily["deprecation_date"] == when.isoformat()
    assert daily["days_left"] == (when - datetime.now(timezone.utc).date()).days
    assert daily["replacement"] == model["config"]["meta"]["replacement"] == "fct_company_daily_claims"
    assert daily["referenced_by"] == ["fct_company_weekly_claims"] and daily["exposures"] == []
    # the baseline's `check` read it (fan-out of its keys): seen, but pipeline-tui's own checks hold no drop
    assert daily["reads"] and {r["via"] for r in daily["reads"]} == {"pipeline-tui check"}
    assert not any(r["holds_drop"] for r in daily["reads"])
    table = invoke(root, "deprecations")
    assert table.exit_code == 0 and "fct_claims_daily" in table.stdout and "fct_company_weekly_claims" in table.stdout


def _log_a_read(root: Path) -> None:
    """A user's DuckDB client with the query log on reads the deprecated table."""
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        con.execute(f"CALL enable_logging('QueryLog', storage = 'file', storage_path = '{root / 'query-log'}')")
        con.execute("SELECT sum(amount) FROM main.fct_claims_daily").fetchall()


def test_drop_is_refused_while_refs_or_reads_remain_then_allowed(tmp_path):
    root = copy_of(baseline_root(), "drop")
    warehouse = root / "warehouse.duckdb"
    refused = invoke(root, "deprecations", "--drop", "fct_claims_daily", "--yes")
    assert refused.exit_code == 2 and "fct_company_weekly_claims" in refused.stderr, refused.output
    assert len(refused.stderr.strip().splitlines()) == 1 and has_table(warehouse, "fct_claims_daily")

    project = tmp_path / "project"
    shutil.copytree(embedded_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    (project / "models/marts/fct_company_weekly_claims.sql").write_text(WEEKLY)
    _log_a_read(root)
    refused = invoke(root, "deprecations", "--drop", "fct_claims_daily", "--yes", project=project)
    assert refused.exit_code == 2 and "read 1 times in the last 30 days" in refused.stderr, refused.output
    assert "DuckDB query log" in refused.stderr and has_table(warehouse, "fct_claims_daily")

    declined = invoke(root, "deprecations", "--drop", "fct_claims_daily", "--quiet-days", "0", project=project,
                      input="n\n")
    assert declined.exit_code == 1 and has_table(warehouse, "fct_claims_daily")
    done = invoke(root, "deprecations", "--drop", "fct_claims_daily", "--quiet-days", "0", project=project,
                  input="y\n")
    assert done.exit_code == 0, done.output
    assert not has_table(warehouse, "fct_claims_daily") and has_table(warehouse, "fct_company_daily_claims")
    assert f"delete {project / 'models/marts/fct_claims_daily.sql'}" in done.stdout
    assert str(project / "models/marts/_marts__models.yml") in done.stdout


def test_an_exposure_holds_the_drop(tmp_path):
    root = copy_of(baseline_root(), "exposure")
    project = tmp_path / "project"
    shutil.copytree(embedded_project_dir(), project, ignore=shutil.ignore_patterns("target", "logs", "*.duckdb"))
    (project / "models/marts/fct_company_weekly_claims.sql").write_text(WEEKLY)
    (project / "models/marts/_marts__exposures.yml").write_text(yaml.safe_dump({"version": 2, "exposures": [
        {"name": "claims_board", "type": "dashboard", "owner": {"name": "Benefits analytics"},
         "depends_on": ["ref('fct_claims_daily')"]}]}))
    refused = invoke(root, "deprecations", "--drop", "fct_claims_daily", "--yes", project=project)
    assert refused.exit_code == 2 and "exposure claims_board" in refused.stderr, refused.output
    listed = json.loads(invoke(root, "deprecations", "--json", project=project).stdout)
    assert listed[0]["exposures"] == ["claims_board"] and listed[0]["referenced_by"] == []
