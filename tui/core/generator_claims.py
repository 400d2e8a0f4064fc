"""DuckDB SQL that draws claims and formats them as JSON lines (used by `tui.core.generator`).

A claim is identified by (origin day, index); its id and every attribute are hashed from the claim
id, so a claim re-delivered days later is the same claim with a newer status and `last_updated`.
Claim ids are consecutive: day N starts after the claims (and bursts) of days 0..N-1.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from tui.core.generator_sql import DIAGNOSIS_CODES, MAX_PLANS, Params, iso, lookup, pick, pick_weighted


@dataclass(frozen=True)
class Slots:
    """Which claims one delivered file holds, in file order: runs of (origin_day, first idx, idx step,
    count). `resent` (SQL on the claim id) marks claims whose line is sent twice in a row."""

    runs: tuple[tuple[int, int, int, int], ...]
    delivery_day: int
    resent: str | None = None

    @property
    def count(self) -> int:
        """Positions to read: one per claim, two when some claims are re-sent."""
        return sum(run[3] for run in self.runs) * (2 if self.resent else 1)

    def sql(self, lo: int, hi: int, id_offset: int | None = None) -> str:
        """Positions lo..hi-1 as a relation of (origin_day, idx), read from one `range()` (one thread, in
        order). With `resent`, position 2k is claim k and 2k + 1 its second line, kept if re-sent."""
        slot = "i // 2" if self.resent else "i"
        bounds, origin, idx = 0, [], []
        for day, first, step, count in self.runs:
            bounds += count
            origin.append(f"when {slot} < {bounds} then {day}")
            idx.append(f"when {slot} < {bounds} then {first} + ({slot} - {bounds - count}) * {step}")
        select = (f"select case {' '.join(origin)} end::bigint as origin_day, "
                  f"case {' '.join(idx)} end::bigint as idx from range({lo}, {hi}) t(i)")
        if not self.resent:
            return select
        return f"{select} where i % 2 = 0 or {self.resent.format(claim_id=f'({id_offset} + {slot} + 1)')}"


def day_plan_sql(p: Params, last_day: int) -> list[str]:
    """Tables `day_plan` (claims per day, first claim id), `spike_slots` and `burst_slots` for days 0..last_day."""
    c = p.claims
    factors = c["weekday_factors"]
    mean = sum(factors) / len(factors)
    return [
        f"""
create or replace table spike_slots as
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
create or replace table day_plan as
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
        # one row per burst claim: the claims query finds a burst's company with an equality join
        """
create or replace table burst_slots as
select day, unnest(range(slot_from::bigint, slot_to::bigint)) as burst_idx, company_id, n_employees from spike_slots""",
    ]


def define_constants(con) -> None:
    """Macro `n_stable()`: the number of stable employees, as a constant (a subquery in the claims
    query would add a cross join)."""
    n_stable = con.execute("select count(*) from stable_employees").fetchone()[0]
    con.execute(f"create or replace macro n_stable() as {n_stable}::bigint")


def write_lines(con, slots: Slots, lines_query, path: Path, id_offset: int | None = None) -> int:
    """Write the JSON lines of `slots` to `path`; returns the line count. `lines_query(source)` is the
    SELECT of one text column for a slots relation.

    DuckDB's COPY does not keep row order through hash joins, and an ORDER BY doubled the time of a
    claims file. So each thread writes its own contiguous share of the slots, read from `range()`,
    which runs on one thread and keeps its order; the shares are then appended in order. Shares
    start at multiples of DuckDB's vector size, so each one is read in the same chunks as a single
    run would be: the bytes do not depend on the number of threads (a test checks it)."""
    threads = con.execute("select current_setting('threads')").fetchone()[0]
    n = slots.count
    # each share builds its own lookup hash tables: small files are not worth splitting
    step = max(MIN_SHARE, -(-n // (max(1, threads) * VECTOR_SIZE)) * VECTOR_SIZE)
    shares = [(lo, min(n, lo + step)) for lo in range(0, n, step)] or [(0, 0)]
    paths = [path] + [path.with_name(f".{path.name}.part{k}") for k in range(1, len(shares))]
    cursors = [con.cursor() for _ in shares]  # one connection per thread, same in-memory database
    try:
        with ThreadPoolExecutor(len(shares)) as pool:
            counts = list(pool.map(lambda k: copy_lines(cursors[k], lines_query(
                slots.sql(*shares[k], id_offset=id_offset)), paths[k]), range(len(shares))))
        for part in paths[1:]:
            _append(path, part)
    finally:
        for cursor in cursors:
            cursor.close()
        for part in paths[1:]:
            part.unlink(missing_ok=True)
    return sum(counts)


VECTOR_SIZE = 2048  # DuckDB's STANDARD_VECTOR_SIZE: rows per chunk
MIN_SHARE = 32 * VECTOR_SIZE


def copy_lines(con, lines_query: str, path: Path) -> int:
    """COPY one text column to `path` as lines (the JSON is built in SQL); returns the line count."""
    return con.execute(f"copy ({lines_query}) to '{path}' (format csv, header false, quote '', escape '')"
                       ).fetchone()[0]


def _append(path: Path, part: Path) -> None:
    """Append `part` to `path`, in the kernel where the file system allows it."""
    source, target = os.open(part, os.O_RDONLY), os.open(path, os.O_WRONLY)
    try:
        start = os.lseek(target, 0, os.SEEK_END)
        try:
            while os.copy_file_range(source, target, 1 << 30):
                pass
        except OSError:  # no copy_file_range here: start again with plain reads and writes
            os.lseek(source, 0, os.SEEK_SET)
            os.ftruncate(target, start)
            os.lseek(target, start, os.SEEK_SET)
            while chunk := memoryview(os.read(source, 1 << 22)):
                while chunk:
                    chunk = chunk[os.write(target, chunk):]
    finally:
        os.close(source)
        os.close(target)


def slots_for_day(p: Params, day: int, counts: dict[int, int]) -> Slots:
    """New claims of `day` plus re-deliveries of claims first sent 1..max_lag days earlier."""
    c = p.claims
    runs = [(day, 0, 1, counts[day])]
    max_lag = int(c["redelivery_max_lag_days"])
    stride = max(max_lag, round(max_lag / c["redelivery_rate"])) if c["redelivery_rate"] > 0 else 0
    for lag in range(1, max_lag + 1) if stride else ():
        origin = day - lag
        if origin >= 0 and counts[origin] > lag - 1:
            runs.append((origin, lag - 1, stride, (counts[origin] - lag) // stride + 1))
    return Slots(tuple(runs), day)


def claims_sql(p: Params, source: str, delivery_day: int, id_offset: int | None = None) -> str:
    """A query drawing one claim per slot of `source` (no JSON yet). With `id_offset` (a partner
    feed), claim ids are `id_offset + idx + 1` and there are no bursts.

    Every join is a LEFT join on a unique key of a small lookup table built at setup: each slot gives
    exactly one row."""
    c = p.claims
    delivery_date = p.start + timedelta(days=delivery_day)
    first_id = "d.first_claim_id" if id_offset is None else str(id_offset)
    burst_idx = "case when s.idx >= d.n_base then s.idx - d.n_base end" if id_offset is None else "null::bigint"
    return f"""
with keyed as (
    select s.origin_day, d.claim_date, {first_id} + s.idx + 1 as claim_id, {burst_idx} as burst_idx
    from ({source}) s left join day_plan d on d.day = s.origin_day
), drawn as (
    select k.origin_day, k.claim_date, k.claim_id, k.burst_idx is not null as is_burst,
           coalesce(ebc.employee_id, 1 + floor(u(50, k.claim_id) * {p.employees})::bigint) as drawn_employee_id,
           k.claim_date - least(30, floor(-ln(1 - u(51, k.claim_id)) * {c['service_lag_mean_days']}))::int
               as service_date
    from keyed k
    left join burst_slots bs on bs.day = k.origin_day and bs.burst_idx = k.burst_idx
    left join employees_by_company ebc on ebc.company_id = bs.company_id
         and ebc.rn = 1 + floor(u(52, k.claim_id) * bs.n_employees)::bigint
), enrolled as (
    {enrolled_sql(p, 'drawn')}
)
select claim_id, origin_day, employee_id, {plan_sql(p)} as plan_id, service_date,
       at_day(claim_date, 6 * 3600 + floor(u(61, claim_id) * 16 * 3600)::bigint) as submitted_at,
       {amount_sql(c)} as amount, severity,
       case when origin_day = {delivery_day} then {pick_weighted(c['first_status_mix'], 62, 'claim_id')}
            else {pick_weighted(c['redelivered_status_mix'], 63, 'claim_id')} end as status,
       {pick(DIAGNOSIS_CODES, 65, 'claim_id')} as diagnosis_code,
       case when origin_day = {delivery_day}
            then at_day(claim_date, 6 * 3600 + floor(u(61, claim_id) * 16 * 3600)::bigint)
            else at_day(date '{delivery_date}', 6 * 3600 + floor(u(64, claim_id) * 16 * 3600)::bigint)
       end as last_updated
from (select *, {pick_weighted(c['severity_mix'], 58, 'claim_id')} as severity from enrolled)"""


def enrolled_sql(p: Params, source: str) -> str:
    """The claim's employee and enrolled plan. Most claims drawn on an uncovered employee-day move to an
    always-covered ("stable") employee, whose plan on every claim date is their first one. Only
    those claims look a stable employee up (a NULL key is not probed)."""
    keep = p.claims["uncovered_claim_rate"]
    covered = ("coalesce(x.service_date between ec.p1_start and ec.p1_end "
               "or x.service_date between ec.p2_start and ec.p2_end, false)")
    return f"""
    select x.origin_day, x.claim_date, x.claim_id, x.service_date,
           st.employee_id is null as keeps_drawn,
           case when keeps_drawn then x.drawn_employee_id else st.employee_id end as employee_id,
           case when keeps_drawn then x.company_id else st.company_id end as company_id,
           case when keeps_drawn then x.n_plans else st.n_plans end as n_plans,
           case when keeps_drawn then x.enrolled_plan_id else st.p1_plan end as enrolled_plan_id
    from (
        select x.origin_day, x.claim_date, x.claim_id, x.service_date, x.drawn_employee_id, ec.company_id, ec.n_plans,
               case when x.service_date between ec.p2_start and ec.p2_end then ec.p2_plan else ec.p1_plan end
                   as enrolled_plan_id,
               case when not ({covered} or x.is_burst or u(53, x.claim_id) < {keep})
                    then 1 + floor(u(54, x.claim_id) * n_stable())::bigint end as stable_rn
        from {source} x
        left join employee_coverage ec on ec.employee_id = x.drawn_employee_id
    ) x
    left join stable_employees st on st.rn = x.stable_rn"""


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
    """SQL building one claims JSON line; the arguments let a feed deliver fields differently.
    One `concat()` call: a chain of `||` allocates every intermediate string (twice the time)."""
    return f"""concat('{{"claim_id":', claim_id::varchar, ',"employee_id":', {employee},
        ',"plan_id":', {plan}, ',"service_date":"', service_date::varchar,
        '","submitted_at":"', {iso('submitted_at')}, '","amount":', {amount},
        ',"severity":"', severity, '","status":"', status, '","diagnosis_code":"', diagnosis_code,
        '","last_updated":"', {iso('last_updated')}, '"}}')"""


def day_date(p: Params, day: int) -> date:
    return p.start + timedelta(days=day)
