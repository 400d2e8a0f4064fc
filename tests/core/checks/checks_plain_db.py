"""A plain DuckDB warehouse for engine tests: claim-shaped rows in daily files, built with SQL only.

`make_claims_db(path, defects=...)` writes table `main.claims` with `source_file` (one per day) and
optionally a defective newest delivery; the expected numbers come from the same SQL parameters.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

DAYS, PER_DAY = 10, 400


def make_claims_db(path: Path, *, defects: bool, new_day: bool = True) -> Path:
    conn = duckdb.connect(str(path))
    days = DAYS + (1 if new_day else 0)
    conn.execute(f"""
        CREATE TABLE claims AS
        SELECT d * 100000 + i AS claim_id,
               (hash(d, i, 'e') % 200)::BIGINT + 1 AS employee_id,
               (hash(d, i, 'p') % 20)::BIGINT + 1 AS plan_id,
               DATE '2025-01-06' + d::INTEGER AS service_date,
               round(exp(4 + ((hash(d, i, 'a') % 1000) / 1000.0 - 0.5)), 2) AS amount,
               ['low', 'medium', 'high'][(hash(d, i, 's') % 3)::INT + 1] AS severity,
               'Person ' || (hash(d, i, 'n') % 50)::VARCHAR AS first_name,
               format('claims_{{:03d}}.jsonl', d) AS source_file
        FROM range({days}) t(d), range({PER_DAY}) u(i)""")
    if defects and new_day:
        newest = f"'claims_{DAYS:03d}.jsonl'"
        # 5 % null plan ids, amounts in cents for a quarter, a new severity, dates decades back.
        conn.execute(f"UPDATE claims SET plan_id = NULL WHERE source_file = {newest} AND claim_id % 20 = 0")
        conn.execute(f"UPDATE claims SET amount = amount * 100 WHERE source_file = {newest} AND claim_id % 4 = 1")
        conn.execute(f"UPDATE claims SET severity = 'urgent' WHERE source_file = {newest} AND claim_id % 10 = 3")
        conn.execute(f"UPDATE claims SET service_date = DATE '1925-01-01' WHERE source_file = {newest} AND claim_id % 50 = 7")
    conn.close()
    return path
