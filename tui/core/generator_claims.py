"""DuckDB SQL that draws claims and formats them as JSON lines (used by `tui.core.generator`).

A claim is identified by (origin day, index); its id and every attribute are hashed from the claim
id, so a claim re-delivered days later is the same claim with a newer status and `last_updated`.
Claim ids are consecutive: day N starts after the claims (and bursts) of days 0..N-1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from tui.core.generator_sql import DIAGNOSIS_CODES, MAX_PLANS, Params, iso, lookup, pick, pick_weighted


@dataclass(frozen=True)
class Slots:
    """Which claims one delivered file holds: an SQL relation of (origin_day, idx) plus the delivery day."""

    sql: str
    delivery_day: int


def day_plan_sql(p: Params, last_day: int) -> list[str]:
    """Tables `day_plan` (claims per day, first claim id) and `spike_slots` for days 0..last_day."""
    c = p.claims
    factors = c["weekday_factors"]
    mean = sum(factors) / len(factors)
    return [
        f"""
create or replace temp table spike_slots as
with bursts as (
    select d as day, cs.company_id, cs.n_employees,
           ceil({c['spike_multiplier']} * {p.claims_per_day} * cs.n_employees / {p.employees})::bigint + 5 as extra
    from range(0, {last_day} + 1) t(d), company_sizes cs
    where d >= {c['spike_min_day']} and cs.n_employees > 0
      and u(70, d * 1000003 + cs.company_id) < {c['spike_rate']}
)
select *, sum(extra) over (partition by day order by company_id) - extra as slot_from,
       sum(extra) over (partition by day order by company_id) as slot_to
from bursts""",
        f"""
create or replace temp table day_plan as
with counts as (
    select d as day, date '{p.start}' + d::int as claim_date,
           greatest(1, round({p.claims_per_day} * {factors}[isodow(date '{p.start}' + d::int)] / {mean!r}
                 * (1 + {c['daily_noise']} * (2 * u(71, d) - 1))))::bigint as n_base,
           coalesce((select sum(extra) from spike_slots s where s.day = d), 0)::bigint as n_spike
    from range(0, {last_day} + 1) t(d)
)
select *, coalesce(sum(n_base + n_spike) over (order by day rows between unbounded preceding and 1 preceding), 0)
              as first_claim_id
from counts""",
    ]


def slots_for_day(p: Params, day: int, counts: dict[int, int]) -> Slots:
    """New claims of `day` plus re-deliveries of claims first sent 1..max_lag days earlier."""
    c = p.claims
    parts = [f"select {day}::bigint as origin_day, i as idx from range(0, {counts[day]}) t(i)"]
    max_lag = int(c["redelivery_max_lag_days"])
    stride = max(max_lag, round(max_lag / c["redelivery_rate"])) if c["redelivery_rate"] > 0 else 0
    for lag in range(1, max_lag + 1) if stride else ():
        origin = day - lag
        if origin >= 0 and counts[origin] > lag - 1:
            n = (counts[origin] - lag) // stride + 1
            parts.append(f"select {origin}::bigint, j * {stride} + {lag - 1} from range(0, {n}) t(j)")
    return Slots(" union all ".join(parts), day)


def claims_sql(p: Params, slots: Slots, id_offset: int | None = None) -> str:
    """A query drawing one claim per slot (no JSON yet). With `id_offset` (a partner feed), claim ids
    are `id_offset + idx + 1` and there are no bursts."""
    c = p.claims
    delivery_date = p.start + timedelta(days=slots.delivery_day)
    first_id = "d.first_claim_id" if id_offset is None else str(id_offset)
    burst = "s.idx >= d.n_base" if id_offset is None else "false"
    return f"""
with keyed as (
    select s.origin_day, s.idx, d.claim_date, {first_id} + s.idx + 1 as claim_id,
           {burst} as is_burst, s.idx - d.n_base as burst_idx
    from ({slots.sql}) s join day_plan d on d.day = s.origin_day
), drawn as (
    select k.*, coalesce(ebc.employee_id, 1 + floor(u(50, k.claim_id) * {p.employees})::bigint) as drawn_employee_id,
           k.claim_date - least(30, floor(-ln(1 - u(51, k.claim_id)) * {c['service_lag_mean_days']}))::int
               as service_date
    from keyed k
    left join spike_slots ss on k.is_burst and ss.day = k.origin_day
         and k.burst_idx >= ss.slot_from and k.burst_idx < ss.slot_to
    left join employees_by_company ebc on ebc.company_id = ss.company_id
         and ebc.rn = 1 + floor(u(52, k.claim_id) * ss.n_employees)::bigint
), assigned as (
    {assigned_sql(p, 'drawn')}
), enrolled as (
    select a.*, em.company_id, pc.n_plans, coalesce(en.plan_id, first_plan.plan_id) as enrolled_plan_id
    from assigned a
    join employees em using (employee_id)
    join (select company_id, any_value(n_plans) as n_plans from plans group by all) pc using (company_id)
    left join enrollments en on en.employee_id = a.employee_id
         and a.service_date between en.coverage_start and coalesce(en.coverage_end, date '9999-12-31')
    left join enrollments first_plan on first_plan.employee_id = a.employee_id and first_plan.period = 1
)
select claim_id, origin_day, employee_id, {plan_sql(p)} as plan_id, service_date,
       at_day(claim_date, 6 * 3600 + floor(u(61, claim_id) * 16 * 3600)::bigint) as submitted_at,
       {amount_sql(c)} as amount, severity,
       case when origin_day = {slots.delivery_day} then {pick_weighted(c['first_status_mix'], 62, 'claim_id')}
            else {pick_weighted(c['redelivered_status_mix'], 63, 'claim_id')} end as status,
       {pick(DIAGNOSIS_CODES, 65, 'claim_id')} as diagnosis_code,
       case when origin_day = {slots.delivery_day}
            then at_day(claim_date, 6 * 3600 + floor(u(61, claim_id) * 16 * 3600)::bigint)
            else at_day(date '{delivery_date}', 6 * 3600 + floor(u(64, claim_id) * 16 * 3600)::bigint)
       end as last_updated
from (select *, {pick_weighted(c['severity_mix'], 58, 'claim_id')} as severity from enrolled)"""


def assigned_sql(p: Params, source: str) -> str:
    """Most claims drawn on an uncovered employee-day move to an always-covered employee."""
    keep = p.claims["uncovered_claim_rate"]
    return f"""
    select x.* exclude (drawn_employee_id, covered),
           case when covered or is_burst or u(53, claim_id) < {keep} or st.employee_id is null
                then drawn_employee_id else st.employee_id end as employee_id
    from (
        select {source}.*, exists (
            select 1 from enrollments en where en.employee_id = {source}.drawn_employee_id
              and {source}.service_date between en.coverage_start and coalesce(en.coverage_end, date '9999-12-31')
        ) as covered
        from {source}
    ) x
    left join stable_employees st
         on st.rn = 1 + floor(u(54, x.claim_id) * (select count(*) from stable_employees))::bigint"""


def plan_sql(p: Params) -> str:
    """The enrolled plan, or (rarely) another plan of the company or a plan of another company."""
    rate, n = p.claims["plan_mismatch_rate"], p.companies
    same_company = (f"(company_id - 1) * {MAX_PLANS} + ((enrolled_plan_id - 1) % {MAX_PLANS} + 1) "
                    f"% n_plans + 1")
    other_company = f"((company_id + floor(u(57, claim_id) * {max(n - 1, 1)})::bigint) % {n}) * {MAX_PLANS} + 1"
    return f"""case when u(55, claim_id) >= {rate} then enrolled_plan_id
            when u(56, claim_id) < 0.5 or {n} = 1 then {same_company}
            else {other_company} end"""


def amount_sql(c: dict) -> str:
    """Log-normal amounts whose median depends on the severity."""
    normal = "sqrt(-2 * ln(1 - u(59, claim_id))) * cos(2 * pi() * u(60, claim_id))"
    return (f"round({lookup(c['severity_median_amount'], 'severity')} * exp({c['amount_sigma']} * {normal}), 2)"
            f"::decimal(12, 2)")


def json_line_sql(employee: str = "employee_id::varchar", plan: str = "coalesce(plan_id::varchar, 'null')",
                  amount: str = "amount::varchar") -> str:
    """SQL building one claims JSON line; the arguments let a feed deliver fields differently."""
    return f"""'{{"claim_id":' || claim_id::varchar || ',"employee_id":' || {employee}
        || ',"plan_id":' || {plan} || ',"service_date":"' || service_date::varchar
        || '","submitted_at":"' || {iso('submitted_at')} || '","amount":' || {amount}
        || ',"severity":"' || severity || '","status":"' || status || '","diagnosis_code":"' || diagnosis_code
        || '","last_updated":"' || {iso('last_updated')} || '"}}'"""


def day_date(p: Params, day: int) -> date:
    return p.start + timedelta(days=day)
