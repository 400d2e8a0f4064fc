"""Incremental inspection on the real incident workspace: the audit table's latest load against its
usual size, and a full refresh (compiled by dbt into a scratch database) compared with the table."""

from __future__ import annotations

import duckdb
import pytest

from tui.core.checks.incremental import audit_findings, full_refresh_findings
from tui.core.checks.triage import close, open_for

from triage_workspaces import copy_of, incident_root, workspace


@pytest.fixture(scope="module")
def incident_ctx():
    ctx = open_for(workspace(incident_root()))
    yield ctx
    close(ctx)


def test_the_partner_feed_load_is_several_times_the_usual_one(incident_ctx):
    audit = {f.object: f for f in audit_findings(incident_ctx)}
    claims = audit["stg_benefits__claims"]
    expected = incident_ctx.runner.one(
        "SELECT rows_inserted + rows_updated AS n FROM dbt_audit.incremental_runs WHERE model = 'stg_benefits__claims' "
        "ORDER BY recorded_at DESC LIMIT 1", "expected")["n"]
    assert claims.status in ("warn", "fail") and claims.evidence["ratio"] >= 3
    assert claims.evidence["rows_inserted"] + claims.evidence["rows_updated"] == expected


def test_full_refresh_matches_the_incremental_claims(incident_ctx):
    found = {f.object: f for f in full_refresh_findings(incident_ctx)}
    claims = found["stg_benefits__claims"]
    assert claims.status == "pass", claims.summary
    assert claims.evidence["full_refresh_rows"] == claims.evidence["incremental_rows"] > 0


def test_rows_lost_by_the_incremental_table_are_found(tmp_path):
    root = copy_of(incident_root(), "lost-rows")
    ws = workspace(root)
    with duckdb.connect(str(ws.warehouse)) as conn:
        lost = conn.execute("DELETE FROM main.stg_benefits__claims WHERE claim_id % 97 = 0").fetchone()[0]
    ctx = open_for(ws)
    try:
        found = {f.object: f for f in full_refresh_findings(ctx)}
    finally:
        close(ctx)
    claims = found["stg_benefits__claims"]
    assert claims.status == "fail" and claims.column == "claim_id"
    assert claims.evidence["keys_only_in_full_refresh"] == lost > 0
