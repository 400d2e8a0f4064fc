"""The incident scenario: dbt passes (one warning) while outputs are wrong, as ground_truth.json says."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def truth(incident) -> dict[str, dict]:
    defects = json.loads((incident.raw / "ground_truth.json").read_text())["defects"]
    return {d["defect"]: d for d in defects}


def test_tests_pass_with_only_a_warning_on_missing_plans(incident, truth):
    names = {w.split(":")[0] for w in incident.warnings}
    assert names == {"UpcomingReferenceDeprecation", "LogTestResult", "RunResultWarning", "RunResultWarningMessage"}
    missing = truth["plan_id_null"]["affected_count"]
    assert any(f"WARN {missing} not_null_fct_claims_plan_id" in w for w in incident.warnings)


def test_duplicated_enrollments_fan_out_the_daily_totals(incident, truth):
    duplicated = set(truth["enrollments_duplicated"]["affected_keys"])
    assert duplicated
    fanned = {r[0] for r in incident.query(
        "select employee_id from int_claims_matched_to_coverage group by claim_id, employee_id having count(*) > 1")}
    assert fanned and fanned <= duplicated
    facts = incident.scalar("select sum(amount) from fct_claims")
    daily = incident.scalar("select sum(total_amount) from fct_company_daily_claims")
    assert daily > facts, "the fan-out inflates daily totals while fct_claims stays right"


def test_defects_are_normalised_or_visible(incident, truth):
    padded = truth["employee_id_zero_padded"]["affected_keys"]
    staged = dict(incident.query("select claim_id, employee_id from stg_benefits__claims where claim_id in "
                                 f"({','.join(map(str, padded))})"))
    assert len(staged) == len(padded) and all(isinstance(v, int) for v in staged.values())
    resent = truth["claims_resent_in_same_file"]["affected_keys"]
    assert incident.scalar(f"select count(*) from stg_benefits__claims where claim_id in ({','.join(map(str, resent))})") == len(resent)
    missing = set(truth["plan_id_null"]["affected_keys"])
    assert {r[0] for r in incident.query(
        "select claim_id from fct_plan_mismatches where mismatch_reason = 'missing_plan'")} == missing



def test_cents_and_volume_make_the_partner_day_a_spike_everywhere(incident, truth):
    cents = truth["amount_in_cents"]["affected_keys"]
    partner_day = incident.scalar("select max(claim_date) from fct_company_daily_claims")
    spiking = incident.scalar(f"select count(*) from fct_claim_spikes where claim_date = '{partner_day}'")
    companies_with_partner_claims = incident.scalar(
        f"select count(distinct company_id) from fct_claims where claim_date = '{partner_day}'")
    assert cents and spiking == companies_with_partner_claims > 0
