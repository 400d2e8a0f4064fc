"""DuckDB SQL that draws the synthetic benefits data set (used by `tui.core.generator`).

Everything is set-based SQL over `range()`; randomness comes from hashing (seed, tag, key) (the
macro `u(tag, key)` gives a uniform number in [0, 1)). A value therefore depends only on the
seed, its tag and its key, never on row order or on how many other rows exist: the claims of day N
are the same whether 10 or 100 days are generated. Hash values are stable for a given DuckDB
version; a DuckDB upgrade may change the data drawn for a seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

FIRST_NAMES = ["Ava", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kemi",
               "Liam", "Maya", "Noor", "Owen", "Priya", "Quinn", "Rosa", "Sam", "Tariq", "Uma", "Vik",
               "Wen", "Yara", "Zoe"]
LAST_NAMES = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Haddad", "Ito", "Jones",
              "Kowalski", "Lopez", "Murphy", "Nguyen", "Okafor", "Patel", "Rossi", "Singh", "Tanaka",
              "Underwood", "Varga", "Weber", "Young", "Zhang"]
DEPARTMENTS = ["Engineering", "Sales", "Operations", "Finance", "People", "Support", "Marketing", "Legal"]
NAME_WORDS = ["Acme", "Blue Ridge", "Cedar", "Delta", "Evergreen", "Falcon", "Granite", "Harbor", "Iris",
              "Juniper", "Keystone", "Lumen", "Maple", "Northwind", "Orion", "Pioneer", "Quarry", "Redwood",
              "Summit", "Tidewater"]
NAME_NOUNS = ["Logistics", "Health", "Foods", "Robotics", "Energy", "Media", "Labs", "Builders", "Retail",
              "Analytics"]
NAME_SUFFIXES = [" Inc", " LLC", ", Inc.", " Group", " Co"]  # ", Inc." exercises CSV quoting
INDUSTRIES = ["Technology", "Healthcare", "Manufacturing", "Retail", "Finance", "Education", "Logistics",
              "Hospitality"]
STATES = ["CA", "NY", "TX", "WA", "IL", "MA", "CO", "GA", "NC", "FL", "OR", "MN"]
PLAN_TYPES = ["HMO", "PPO", "EPO", "HDHP", "POS"]
PLAN_PREMIUM = {"HMO": 420, "PPO": 610, "EPO": 520, "HDHP": 330, "POS": 480}
PLAN_DEDUCTIBLE = {"HMO": 500, "PPO": 1000, "EPO": 750, "HDHP": 3000, "POS": 800}
PLAN_TIERS = ["Bronze", "Silver", "Gold", "Platinum"]
CARRIERS = ["Aetna", "Anthem", "Cigna", "Humana", "Kaiser", "UnitedHealthcare"]
COVERAGE_TIERS = ["employee", "employee_spouse", "employee_children", "family"]
DIAGNOSIS_CODES = ["J06.9", "M54.5", "E11.9", "I10", "Z00.00", "K21.9", "F41.1", "J45.909", "M25.561",
                   "R51.9", "N39.0", "H10.9", "L30.9", "S93.401A", "R10.9", "J02.9", "E78.5", "G43.909",
                   "K52.9", "M79.1"]
MAX_PLANS = 4  # plan ids are (company_id - 1) * MAX_PLANS + index + 1


@dataclass(frozen=True)
class Params:
    """Everything the SQL needs: sizes, the scenario's entity and claim settings, and `as_of`.

    `as_of` (naive UTC, or None) is when the data was extracted: no timestamp lies after it. None
    keeps the historical snapshot anchored at `start`, independent of the number of days.
    """

    seed: int
    companies: int
    employees: int
    claims_per_day: int
    start: date
    entities: dict
    claims: dict
    as_of: datetime | None = None


def lit(values: list[str]) -> str:
    """A DuckDB list literal of strings."""
    return "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]"


def pick(values: list[str], tag: int, key: str) -> str:
    """SQL choosing one of `values` uniformly from the hash of (tag, key)."""
    return f"{lit(values)}[1 + floor(u({tag}, {key}) * {len(values)})::int]"


def pick_weighted(mix: dict[str, float], tag: int, key: str) -> str:
    """SQL choosing a key of `mix` with its (normalised) probability."""
    total = sum(mix.values())
    cumulative, branches = 0.0, []
    for value, weight in list(mix.items())[:-1]:
        cumulative += weight / total
        branches.append(f"when u({tag}, {key}) < {cumulative!r} then '{value}'")
    last = list(mix)[-1]
    return f"case {' '.join(branches)} else '{last}' end"


def lookup(mapping: dict, expr: str) -> str:
    """SQL mapping the value of `expr` through `mapping` (a CASE expression)."""
    branches = " ".join(f"when '{k}' then {float(v)!r}" for k, v in mapping.items())
    return f"(case {expr} {branches} end)"


def iso(expr: str) -> str:
    """SQL formatting a timestamp as ISO-8601 UTC."""
    return f"strftime({expr}, '%Y-%m-%dT%H:%M:%SZ')"


def setup_sql(p: Params) -> list[str]:
    """Statements that create the macro `u` and the entity tables."""
    return [
        # hash() of one integer is a good mixer; DuckDB's multi-argument hash() correlates its inputs.
        f"create or replace macro u(tag, k) as "
        f"hash(xor(hash(k * 1024 + tag), {p.seed}::ubigint)) / 18446744073709551616.0",
        at_day_macro_sql(p),
        companies_sql(p),
        plans_sql(p),
        employees_sql(p),
        enrollments_sql(p),
        *helper_tables_sql(p),
    ]


def at_day_macro_sql(p: Params) -> str:
    """Temp macro `at_day(d, secs)`: the timestamp `secs` seconds into day `d`. On the `as_of` day the
    day is squeezed into [midnight, as_of] so that a feed extracted mid-day holds no future times."""
    if p.as_of is None or p.as_of.time() >= LAST_SECOND:
        return "create or replace macro at_day(d, secs) as d::timestamp + to_seconds(secs)"
    kept = p.as_of.hour * 3600 + p.as_of.minute * 60 + p.as_of.second + 1
    return (f"create or replace macro at_day(d, secs) as d::timestamp + to_seconds("
            f"case when d = date '{p.as_of.date()}' then (secs::bigint * {kept}) // 86400 else secs end)")


def extract_stamp_sql(p: Params, feed: str, expr: str, key: str) -> str:
    """A feed's `last_updated` as the extract taken at `as_of` shows it: changes dated after it were
    entered in the week before it, and one record (hashed) was edited in the hour before it."""
    if p.as_of is None:
        return expr
    tag, latest = EXTRACT_TAGS[feed], LATEST_EDITED[feed]
    as_of = f"timestamp '{p.as_of:%Y-%m-%d %H:%M:%S}'"
    return f"""(case when {key} = {latest.format(companies=p.companies, employees=p.employees, tag=tag)}
          then {as_of} - to_seconds(floor(u({tag}, -1) * 3600)::bigint)
      when {expr} > {as_of} then {as_of} - to_seconds(floor(u({tag}, {key}) * 7 * 86400)::bigint)
      else {expr} end)"""


LAST_SECOND = datetime.strptime("23:59:59", "%H:%M:%S").time()
EXTRACT_TAGS = {"companies": 90, "plans": 91, "employees": 92, "enrollments": 93}
# The record of each entity feed edited last before the extract; these keys always exist.
LATEST_EDITED = {
    "companies": "(1 + floor(u({tag}, 0) * {companies})::bigint)",
    "plans": f"((floor(u({{tag}}, 0) * {{companies}})::bigint) * {MAX_PLANS} + 1)",
    "employees": "(1 + floor(u({tag}, 0) * {employees})::bigint)",
    "enrollments": "(2 * (1 + floor(u({tag}, 0) * {employees})::bigint) - 1)",
}


def companies_sql(p: Params) -> str:
    start = f"date '{p.start}'"
    return f"""
create or replace table companies as
select c as company_id,
       {pick(NAME_WORDS, 1, 'c')} || ' ' || {pick(NAME_NOUNS, 2, 'c')} || {pick(NAME_SUFFIXES, 3, 'c')}
           as company_name,
       {pick(INDUSTRIES, 4, 'c')} as industry,
       {pick(STATES, 5, 'c')} as state,
       ({start} - 400 + floor(u(6, c) * 300)::int)::timestamp + to_seconds(floor(u(7, c) * 86400)::bigint)
           as last_updated
from range(1, {p.companies} + 1) t(c)"""


def n_plans_sql(p: Params, company_id: str) -> str:
    """How many plans a company offers (a hash of its id: enrollments need no join to plans)."""
    e = p.entities["plans_per_company"]
    return f"({e['min']} + floor(u(20, {company_id}) * {e['max'] - e['min'] + 1})::int)"


def plans_sql(p: Params) -> str:
    e, start = p.entities["plans_per_company"], f"date '{p.start}'"
    types = f"{lit(PLAN_TYPES)}[1 + ((floor(u(21, c) * 5)::int + j) % 5)]"
    return f"""
create or replace table plans as
with offered as (
    select company_id as c, {n_plans_sql(p, 'company_id')} as n_plans
    from companies
), typed as (
    select c, j, n_plans, (c - 1) * {MAX_PLANS} + j + 1 as plan_id, {types} as plan_type,
           {pick(CARRIERS, 22, 'c')} as carrier
    from offered, range(0, {MAX_PLANS}) r(j)
    where j < n_plans
)
select plan_id, c as company_id, j as plan_index, n_plans,
       carrier || ' ' || plan_type || ' ' || {lit(PLAN_TIERS)}[j + 1] as plan_name,
       plan_type, carrier,
       round({lookup(PLAN_PREMIUM, 'plan_type')} * (0.85 + 0.3 * u(23, plan_id)), 2)::decimal(10, 2)
           as monthly_premium,
       ({lookup(PLAN_DEDUCTIBLE, 'plan_type')} + 250 * floor(u(24, plan_id) * 3))::decimal(10, 2) as deductible,
       ({start} - 380 + floor(u(25, plan_id) * 300)::int)::timestamp
           + to_seconds(floor(u(26, plan_id) * 86400)::bigint) as last_updated
from typed"""


def employees_sql(p: Params) -> str:
    e, start, n = p.entities, f"date '{p.start}'", p.companies
    first, last = pick(FIRST_NAMES, 31, "e"), pick(LAST_NAMES, 32, "e")
    return f"""
create or replace table employees as
with drawn as (
    select e as employee_id,
           1 + least({n - 1}, floor({n} * pow(u(30, e), 1.6)))::bigint as company_id,
           {first} as first_name, {last} as last_name,
           {pick(DEPARTMENTS, 33, 'e')} as department,
           case when u(34, e) < {e['new_hire_rate']}
                then {start} + floor(u(35, e) * {e['horizon_days']})::int
                else {start} - 60 - floor(u(36, e) * 3000)::int end as hire_date
    from range(1, {p.employees} + 1) t(e)
)
select employee_id, company_id, first_name, last_name,
       lower(first_name) || '.' || lower(last_name) || employee_id || '@example.com' as email,
       department, hire_date,
       case when u(37, employee_id) < {e['termination_rate']}
            then greatest(hire_date + 30, {start} + floor(u(38, employee_id) * {e['horizon_days']})::int)
       end as termination_date
from drawn"""


def enrollments_sql(p: Params) -> str:
    """One scan of `employees`, no join, no sort: the table holds every first period in employee
    order, then every second period (DuckDB keeps insertion order through SELECT, WHERE, UNION ALL
    and CTEs), so enrollments.csv needs no ORDER BY."""
    e, start = p.entities, f"date '{p.start}'"
    gap_min, gap_max = e["gap_days"]["min"], e["gap_days"]["max"]
    return f"""
create or replace table enrollments as
with decided as (
    select em.employee_id, em.company_id, em.hire_date, em.termination_date, {n_plans_sql(p, 'em.company_id')} as n_plans,
           floor(u(40, em.employee_id) * n_plans)::int as plan_a,
           case when u(42, em.employee_id) < {e['plan_switch_rate']}
                then {start} + floor(u(43, em.employee_id) * {e['horizon_days']})::int end as switch_date,
           case when u(44, em.employee_id) < {e['coverage_gap_share']}
                then {gap_min} + floor(u(45, em.employee_id) * {gap_max - gap_min + 1})::int else 0 end as gap_days,
           {pick(COVERAGE_TIERS, 46, 'em.employee_id')} as coverage_tier
    from employees em
), periods as (
    select *, (plan_a + 1 + floor(u(41, employee_id) * (n_plans - 1))::int) % n_plans as plan_b,
           switch_date > hire_date + 1
               and (termination_date is null or termination_date >= switch_date + gap_days) as has_second
    from decided
), stamped as (
    select employee_id * 2 - 1 as enrollment_id, employee_id, (company_id - 1) * {MAX_PLANS} + plan_a + 1 as plan_id,
           coverage_tier, hire_date as coverage_start,
           case when has_second then switch_date - 1 else termination_date end as coverage_end,
           1 as period
    from periods
    union all
    select employee_id * 2, employee_id, (company_id - 1) * {MAX_PLANS} + plan_b + 1, coverage_tier,
           switch_date + gap_days, termination_date, 2
    from periods where has_second
)
select *, (coalesce(coverage_end, least(coverage_start, {start} - 1)) - 1)::timestamp
              + to_seconds(floor(u(47, enrollment_id) * 86400)::bigint) as last_updated
from stamped"""


def helper_tables_sql(p: Params) -> list[str]:
    """Lookups for the claims draw, each with a unique key: every employee's company, plan count and
    (at most two) coverage periods; stable employees; employees by company; company sizes."""
    start = f"date '{p.start}'"
    return [
        f"""
create or replace table employee_coverage as
select em.employee_id, em.company_id, pc.n_plans,
       p1.plan_id as p1_plan, p1.coverage_start as p1_start, coalesce(p1.coverage_end, {FOREVER}) as p1_end,
       p2.plan_id as p2_plan, p2.coverage_start as p2_start, coalesce(p2.coverage_end, {FOREVER}) as p2_end
from employees em
join (select company_id, any_value(n_plans) as n_plans from plans group by all) pc using (company_id)
left join enrollments p1 on p1.employee_id = em.employee_id and p1.period = 1
left join enrollments p2 on p2.employee_id = em.employee_id and p2.period = 2""",
        f"""
create or replace table stable_employees as
select row_number() over (order by employee_id) as rn, employee_id, company_id, n_plans, p1_plan
from employee_coverage
where p2_plan is null and employee_id in (
    select employee_id from employees where termination_date is null and hire_date < {start} - 30)""",
        """
create or replace table employees_by_company as
select company_id, employee_id, row_number() over (partition by company_id order by employee_id) as rn
from employees""",
        """
create or replace table company_sizes as
select c.company_id, count(e.employee_id) as n_employees
from companies c left join employees e using (company_id) group by all""",
    ]


FOREVER = "date '9999-12-31'"


def employee_last_updated_sql(p: Params) -> str:
    """Employees change when they join, leave, or were last edited before the feeds start."""
    start = f"date '{p.start}'"
    return f"""
    (case when termination_date is not null then termination_date
          when hire_date >= {start} then hire_date - 7
          else greatest(hire_date, {start} - 1 - floor(u(39, employee_id) * 200)::int) end)::timestamp
      + to_seconds(floor(u(48, employee_id) * 86400)::bigint)"""
