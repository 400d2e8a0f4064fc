"""Injected defects for the generator: the incident's partner feed, duplicated enrollments,
malformed lines, and the `ground_truth.json` that lists every one of them (used by `tui.core.generator`).
"""

from __future__ import annotations

import json
from datetime import datetime, time, timedelta
from pathlib import Path

from tui.core.generator_claims import Slots, claims_sql, json_line_sql, write_lines
from tui.core.generator_sql import Params, extract_stamp_sql, iso

GROUND_TRUTH_FILE = "ground_truth.json"
MAX_KEYS = 10_000  # keys listed per defect; `affected_count` is always exact
MALFORMED_CLAIM_ID = 990_000_000_000


def enrollments_with_duplicates_sql(params: Params, settings: dict, day: int) -> str:
    """enrollments.csv rows, in the table's order (no sort); the incident re-delivers some employees'
    rows under new ids, after the others."""
    columns = "employee_id, plan_id, coverage_tier, coverage_start, coverage_end"
    stamped = extract_stamp_sql(params, "enrollments", "last_updated", "enrollment_id")
    clean = f"select enrollment_id, {columns}, {iso(stamped)} as last_updated from enrollments"
    rate = settings.get("partner_feed", {}).get("duplicate_enrollment_rate", 0)
    if not rate:
        return clean
    stamp = f"at_day(date '{params.start + timedelta(days=day)}', 5 * 3600)"
    # new ids after every real one (at most 2 per employee); row_number() over () keeps the table order
    return f"""{clean}
union all
select {2 * params.employees} + row_number() over (), {columns}, {iso(stamp)}
from enrollments where u(84, employee_id) < {rate}"""


def write_partner_feed(con, params: Params, out: Path, settings: dict, day: int,
                       rows: dict[str, int], files: list[str]) -> list[dict]:
    """The incident's partner claims file for `day`; returns its ground-truth entries.

    Each defect is a hashed flag of the claim id (`_flags`), so the file streams from the slots and the
    ground truth is counted from the claim ids alone, without keeping the drawn claims."""
    feed = settings["partner_feed"]
    n, offset = round(feed["volume_multiplier"] * params.claims_per_day), feed["claim_id_offset"]
    flags = _flags(feed["defects"], "claim_id")
    # a re-sent claim's second line follows its first one
    slots = Slots(((day, 0, 1, n),), day, resent=_flags(feed["defects"], "{claim_id}")["is_duplicated"])
    line = json_line_sql(
        employee=f"""case when {flags['is_zero_padded']}
                    then '"' || lpad(employee_id::varchar, greatest(6, length(employee_id::varchar) + 1)::int, '0') || '"'
                    else employee_id::varchar end""",
        plan=f"case when {flags['is_null_plan']} or plan_id is null then 'null' else plan_id::varchar end",
        amount=f"case when {flags['is_in_cents']} then (amount * 100)::bigint::varchar else amount::varchar end",
    )
    name = f"claims/claims_{params.start + timedelta(days=day)}_{feed['name']}.jsonl"
    rows["claims"] += write_lines(
        con, slots, lambda source: f"select {line} from ({claims_sql(params, source, day, id_offset=offset)})",
        out / name, id_offset=offset)
    files.append(name)
    truth = _partner_truth(con, name, n, offset, flags)
    return truth + _enrollment_truth(con, feed["duplicate_enrollment_rate"])


def _flags(rates: dict, claim_id: str) -> dict[str, str]:
    """SQL conditions marking a partner claim's defects."""
    return {"is_duplicated": f"u(80, {claim_id}) < {rates['duplicate_in_file_rate']}",
            "is_zero_padded": f"u(81, {claim_id}) < {rates['zero_padded_employee_id_rate']}",
            "is_null_plan": f"u(82, {claim_id}) < {rates['null_plan_id_rate']}",
            "is_in_cents": f"u(83, {claim_id}) < {rates['amount_in_cents_rate']}"}


def _keys(con, sql: str) -> dict:
    keys = [k for (k,) in con.execute(sql).fetchall()]
    return {"affected_count": len(keys), "affected_keys": keys[:MAX_KEYS], "keys_truncated": len(keys) > MAX_KEYS}


def _partner_truth(con, name: str, n: int, offset: int, flags: dict[str, str]) -> list[dict]:
    """Exact counts and the first MAX_KEYS claim ids of each defect, in one pass over the slots."""
    aggregates = ", ".join(f"count(*) filter (where {cond}), min(claim_id, {MAX_KEYS}) filter (where {cond})"
                           for cond in flags.values())
    found = con.execute(f"select {aggregates} from (select {offset} + i + 1 as claim_id from range(0, {n}) t(i))"
                        ).fetchone()
    keys = {flag: {"affected_count": found[2 * i], "affected_keys": found[2 * i + 1] or [],
                   "keys_truncated": found[2 * i] > MAX_KEYS} for i, flag in enumerate(flags)}

    def entry(defect: str, column: str, flag: str, description: str) -> dict:
        return {"defect": defect, "table": "claims", "file": name, "column": column, "key": "claim_id",
                "description": description, **keys[flag]}

    return [
        {"defect": "volume_surge", "table": "claims", "file": name, "column": None, "key": None,
         "description": f"a new partner feed with {n} claims in one day", "affected_count": n,
         "affected_keys": [], "keys_truncated": False},
        entry("claims_resent_in_same_file", "claim_id", "is_duplicated", "the same claim line appears twice in the file"),
        entry("employee_id_zero_padded", "employee_id", "is_zero_padded", 'employee_id sent as a string like "000123"'),
        entry("plan_id_null", "plan_id", "is_null_plan", "plan_id is null"),
        entry("amount_in_cents", "amount", "is_in_cents", "amount is in cents, not dollars"),
    ]


def _enrollment_truth(con, rate: float) -> list[dict]:
    return [{"defect": "enrollments_duplicated", "table": "enrollments", "file": "enrollments.csv",
             "column": "employee_id", "key": "employee_id",
             "description": "the employee's enrollment rows are delivered twice under new enrollment ids",
             **_keys(con, f"select distinct employee_id from enrollments where u(84, employee_id) < {rate} "
                          f"order by employee_id")}]


def append_malformed(out: Path, params: Params, rows: dict[str, int], files: list[str]) -> list[dict]:
    """Append one broken line of each kind; returns their ground-truth entries (file, line, reason)."""
    day0 = params.start.isoformat()
    nine = datetime.combine(params.start, time(9))
    stamp = f"{min(nine, params.as_of or nine):%Y-%m-%dT%H:%M:%SZ}"
    claim = ('{{"claim_id":{id},"employee_id":1,"plan_id":1,"service_date":"{sd}","submitted_at":"{ts}",'
             '"amount":{amount},"severity":"low","status":"submitted","diagnosis_code":"J06.9","last_updated":"{ts}"}}')
    claims_file = next(f for f in files if f.startswith("claims/"))
    bad = {
        claims_file: [
            ('{"claim_id":%d,"employee_id":1,"plan_id":1,"service_date":"%s"' % (MALFORMED_CLAIM_ID + 1, day0),
             "invalid_json"),
            (claim.format(id=MALFORMED_CLAIM_ID + 2, sd=day0, ts=stamp, amount='"12.50 USD"'), "invalid_amount"),
            (claim.format(id=MALFORMED_CLAIM_ID + 3, sd=f"{params.start.year}-02-30", ts=stamp, amount="10.00"),
             "invalid_service_date"),
        ],
        "employees.csv": [(f"{params.employees + 1},1,Ann,Example,ann@example.com,Sales,2020-01-01,{stamp}",
                           "wrong_column_count")],
        "enrollments.csv": [(f"{params.employees * 2 + 1},1,1,employee,2020-01-01,,{stamp},extra",
                             "wrong_column_count")],
    }
    feeds = {claims_file: "claims", "employees.csv": "employees", "enrollments.csv": "enrollments"}
    truth = []
    for name, lines in bad.items():
        path = out / name
        first_line = _count_lines(path) + 1
        with path.open("a") as handle:
            handle.writelines(text + "\n" for text, _ in lines)
        rows[feeds[name]] += len(lines)
        truth += [{"defect": "malformed_line", "table": feeds[name], "file": name, "line": first_line + i,
                   "reason": reason, "column": None, "key": None, "affected_count": 1, "affected_keys": [],
                   "keys_truncated": False} for i, (_, reason) in enumerate(lines)]
    return truth


def write_ground_truth(out: Path, scenario: str, truth: list[dict]) -> None:
    path = out / GROUND_TRUTH_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"scenario": scenario, "defects": truth}, indent=2) + "\n")
    tmp.replace(path)


def _count_lines(path: Path) -> int:
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
    return count
