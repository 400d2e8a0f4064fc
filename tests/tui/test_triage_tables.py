"""The triage step's result tables at the width of the 80-column panel and on a wide terminal."""

from __future__ import annotations

from tui_helpers import plain

from tui.core.checks.engine import Table
from tui.widgets.triage_findings import middle_cut
from tui.widgets.triage_result import StepTable

PANEL_AT_80 = 44  # the result panel's inner width in an 80x24 terminal
ROWS = (("int_claims_matched_to_coverage", 8110, 12, 0, "", 0.265),
        ("stg_benefits__enrollments", 1234567, 11, 22, 1500, 0.469),
        ("benefits.claims", 8176, 15, 22, 1543, 0.24))
PROFILES = Table("Profiles", ("object", "rows", "columns", "deliveries", "newest rows", "seconds"), ROWS)


def body(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[3:]  # title, header, rule


def test_in_the_80_column_panel_each_object_keeps_one_line_and_its_numbers():
    lines = body(plain(StepTable(PROFILES), width=PANEL_AT_80))
    assert len(lines) == len(ROWS)  # no name wrapped onto extra lines
    for line, row in zip(lines, ROWS):
        shown = line.split("│")[0].strip()
        assert len(shown) >= 12 and row[0].startswith(shown.removesuffix("…"))
        assert str(row[1]) in line and str(row[3]) in line  # rows and deliveries whole


def test_on_a_wide_terminal_every_name_and_column_shows_in_full():
    text = plain(StepTable(PROFILES), width=120)
    assert all(row[0] in text and str(row[5]) in text for row in ROWS)
    assert len(body(text)) == len(ROWS)


def test_findings_show_object_dot_column_cut_in_the_middle():
    findings = Table("Findings", ("status", "check", "object", "column", "summary"),
                     (("fail", "keys.fan_out", "int_claims_matched_to_coverage", "claim_id", "12 claims match twice"),))
    assert "int_claims_matched_to_coverage.claim_id" in plain(StepTable(findings), width=120)
    cut = middle_cut("int_claims_aggregated_to_company_days.total_amount", 26)
    assert len(cut) == 26 and cut.startswith("int_claims") and cut.endswith(".total_amount")
