"""SCD2: changing an employee's department yields two versions with non-overlapping validity."""

from __future__ import annotations

import csv

import pytest

from tui.core.generator import generate

pytestmark = pytest.mark.slow


def _change_department(path, employee_id: int) -> str:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    for row in rows[1:]:
        if row[0] == str(employee_id):
            row[5] = "Research" if row[5] != "Research" else "Finance"
            row[8] = "2030-01-01T00:00:00Z"
            department = row[5]
    with path.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return department


def test_department_change_gives_two_versions(fresh_run):
    generate(fresh_run.raw, "baseline", size="test", days=8)
    fresh_run.build()
    department = _change_department(fresh_run.raw / "employees.csv", 7)
    fresh_run.build("--select", "stg_benefits__employees+")

    versions = fresh_run.query("select department, valid_from, valid_to, is_current from dim_employees_history "
                               "where employee_id = 7 order by valid_from")
    assert len(versions) == 2
    (old_dept, old_from, old_to, old_current), (new_dept, new_from, new_to, new_current) = versions
    assert new_dept == department != old_dept
    assert old_to == new_from and old_from < old_to and new_to is None
    assert (old_current, new_current) == (False, True)
    assert fresh_run.scalar("select count(*) from dim_employees_history where employee_id <> 7 and not is_current") == 0
    assert fresh_run.query("select department, version_count from dim_employees where employee_id = 7") == [
        (department, 2)]
    audit = fresh_run.query("select run_mode, rows_inserted, rows_updated from dbt_audit.incremental_runs "
                            "where model = 'stg_benefits__employees' order by recorded_at")
    assert audit[-1] == ("incremental", 0, 1)
