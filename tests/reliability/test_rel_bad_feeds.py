"""Malformed raw feeds on the real embedded project: every bad line lands in the rejects with a
reason, rows read = rows staged + rows rejected, and a feed whose columns changed is named.

Expected counts come from the lines the test writes (Python), never from the models. The
property test (hypothesis) writes a random claims feed and random lines appended to
employees.csv (bytes that are not UTF-8, CRLF line ends and blank lines among them), then rebuilds
only the models that read them through one warm session.
"""

from __future__ import annotations

import json

import duckdb
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from rel_helpers import connect, copy_workspace, invoke
from tui.core.dbt_host.session import DbtSession

FUZZ_FILE = "claims/claims_zz_fuzz.jsonl"
MODELS = "base_benefits__claims stg_benefits__rejects fct_feed_loads"
STAMP = "2025-01-06T09:00:00Z"
CLAIM_KINDS = ("valid", "crlf", "broken_json", "bad_amount", "bad_date", "not_object", "blank", "garbage",
               "invalid_utf8")
EMPLOYEE_KINDS = ("valid", "crlf", "extra_field", "missing_field", "bad_id", "bad_hire_date", "unbalanced_quote",
                  "blank", "garbage", "invalid_utf8")
ACCEPTED = ("valid", "crlf")  # a CRLF line in an LF file is a good line, and the next lines keep their numbers
REASONS = {"broken_json": "invalid_json", "bad_amount": "invalid_amount", "bad_date": "invalid_service_date",
           "not_object": "invalid_claim_id", "extra_field": "wrong_column_count",
           "missing_field": "wrong_column_count", "bad_id": "invalid_employee_id",
           "bad_hire_date": "invalid_hire_date", "blank": "blank_line", "invalid_utf8": "invalid_utf8"}
# Byte sequences that are not UTF-8: stray continuation and invalid lead bytes, a truncated sequence,
# an overlong encoding, a surrogate, a code point above U+10FFFF.
NOT_UTF8 = (b"\xff", b"\x80", b"\xc3(", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf4\x90\x80\x80", b"\xe6\xbc")
BAD_DATES = ("2025-02-30", "2025-13-01", "2025-00-10", "2023-02-29", "20250101x", "not a date", "")
# Any text but line breaks (DuckDB splits on \r too) and the unit separator the sources split on.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), max_size=30)
LINES = lambda kinds: st.lists(st.tuples(st.sampled_from(kinds), TEXT), max_size=25)  # noqa: E731


def line_bytes(kind: str, line: str, text: str, marker: str) -> bytes:
    """The line as written, with its LF: a CRLF end, or bytes that are not UTF-8 in place of `marker`."""
    data = line.encode()
    if kind == "crlf":
        data += b"\r"
    elif kind == "invalid_utf8":
        data = data.replace(marker.encode(), NOT_UTF8[len(text) % len(NOT_UTF8)], 1)
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    return data + b"\n"


def claim_bytes(kind: str, text: str, claim_id: int) -> bytes:
    return line_bytes(kind, claim_line(kind, text, claim_id), text, "é漢")


def employee_bytes(kind: str, text: str, employee_id: int) -> bytes:
    return line_bytes(kind, employee_line(kind, text, employee_id), text, "Émile")


def claim_line(kind: str, text: str, claim_id: int) -> str:
    claim = {"claim_id": claim_id, "employee_id": 1, "plan_id": 1, "service_date": "2025-01-06",
             "submitted_at": STAMP, "amount": 12.5, "severity": "low", "status": "paid",
             "diagnosis_code": "J06.9-é漢", "last_updated": STAMP}
    if kind == "bad_amount":
        claim["amount"] = "x" + text
    elif kind == "bad_date":
        claim["service_date"] = BAD_DATES[len(text) % len(BAD_DATES)]
    line = json.dumps(claim, ensure_ascii=False)
    if kind == "broken_json":
        return line[: 1 + len(text) % (len(line) - 1)]
    return {"not_object": json.dumps([claim_id, text]), "blank": " " * (len(text) % 3),
            "garbage": "~" + text}.get(kind, line)


def employee_line(kind: str, text: str, employee_id: int) -> str:
    clean = text.replace(",", "").replace('"', "")
    fields = [str(employee_id), "1", "Fuzz", f"Émile{employee_id}", f"fuzz{employee_id}@example.invalid",
              "QA", "2020-01-01", "", STAMP]
    if kind == "bad_id":
        fields[0] = "x" + clean
    elif kind == "bad_hire_date":
        fields[6] = BAD_DATES[len(text) % len(BAD_DATES)] or "2021-02-30"
    elif kind == "extra_field":
        fields.append(clean)
    elif kind == "missing_field":
        fields.pop(5)
    elif kind == "unbalanced_quote":
        fields[2] = '"' + clean
    return {"blank": "", "garbage": "~" + text}.get(kind, ",".join(fields))


@pytest.fixture(scope="module")
def fuzz(rel_built, tmp_path_factory):
    """A private workspace, one warm session, and the untouched employees.csv to append to."""
    ws = copy_workspace(rel_built, tmp_path_factory.mktemp("rel_fuzz"))
    session = DbtSession(ws, history=None)
    original = (ws.raw_dir / "employees.csv").read_bytes()
    assert original.endswith(b"\n")
    yield ws, session, original
    session.close()


def feed_facts(ws, feed: str, file: str) -> tuple[tuple | None, dict[int, str], set]:
    """(lines read, accepted, rejected) from fct_feed_loads, rejects by line, accepted keys."""
    key = "claim_id" if feed == "claims" else "employee_id"
    with connect(ws) as con:
        loads = con.execute("select lines_read, rows_accepted, rows_rejected from fct_feed_loads "
                            "where feed = ? and source_file = ?", [feed, file]).fetchone()
        rejects = dict(con.execute("select source_line, reject_reason from stg_benefits__rejects "
                                   "where feed = ? and source_file = ?", [feed, file]).fetchall())
        accepted = {r[0] for r in con.execute(f"select {key} from base_benefits__{feed} where source_file = ? "
                                              "and reject_reason is null", [file.split("/")[-1]]).fetchall()}
    return loads, rejects, accepted


def check_feed(ws, feed, file, kinds, keys, first_line, loads_before=(0, 0, 0)):
    """The rows we wrote are all accounted for: staged or rejected with the right reason."""
    loads, rejects, accepted = feed_facts(ws, feed, file)
    valid = {keys[i] for i, kind in enumerate(kinds) if kind in ACCEPTED}
    bad = {first_line + i: kind for i, kind in enumerate(kinds) if kind not in ACCEPTED}
    read = loads_before[0] + len(kinds)
    if read == 0:
        assert loads is None  # an empty file delivers nothing, and nothing is invented
    else:
        assert loads == (read, loads_before[1] + len(valid), loads_before[2] + len(bad))
    ours = {line: reason for line, reason in rejects.items() if line >= first_line}
    assert set(ours) == set(bad), (ours, bad)
    for line, kind in bad.items():
        assert ours[line] == REASONS.get(kind, ours[line]) and ours[line], (line, kind, ours[line])
    assert valid <= accepted and not ({keys[i] for i, k in enumerate(kinds) if k not in ACCEPTED} & accepted)


@settings(max_examples=8, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@example(claims=[(kind, "a, b") for kind in CLAIM_KINDS], employees=[(kind, "x") for kind in EMPLOYEE_KINDS])
@example(claims=[], employees=[])  # an empty claims file; employees.csv untouched
@given(claims=LINES(CLAIM_KINDS), employees=LINES(EMPLOYEE_KINDS))
def test_every_malformed_line_is_rejected_with_a_reason_and_counts_add_up(fuzz, claims, employees):
    ws, session, original = fuzz
    claim_ids = [990_000_000_000 + i for i in range(len(claims))]
    employee_ids = [9_000_000 + i for i in range(len(employees))]
    (ws.raw_dir / FUZZ_FILE).write_bytes(b"".join(claim_bytes(k, t, claim_ids[i]) for i, (k, t) in enumerate(claims)))
    appended = b"".join(employee_bytes(k, t, employee_ids[i]) for i, (k, t) in enumerate(employees))
    (ws.raw_dir / "employees.csv").write_bytes(original + appended)
    finished = session.invoke("run", select=MODELS + " base_benefits__employees")
    assert finished.status == "success", finished.error
    check_feed(ws, "claims", FUZZ_FILE.split("/")[-1], [k for k, _ in claims], claim_ids, 1)
    data_lines = original.count(b"\n") - 1  # the header is line 1
    check_feed(ws, "employees", "employees.csv", [k for k, _ in employees], employee_ids, data_lines + 2,
               (data_lines, data_lines, 0))


def test_a_header_only_file_and_an_empty_file_build(rel_built, tmp_path):
    ws = copy_workspace(rel_built, tmp_path)
    header = (ws.raw_dir / "enrollments.csv").read_text().splitlines()[0]
    (ws.raw_dir / "enrollments.csv").write_text(header + "\n")
    (ws.raw_dir / FUZZ_FILE).write_text("")
    done = invoke(ws, "run", "-s", MODELS + " base_benefits__enrollments")
    assert done.returncode == 0, done.stderr
    with connect(ws) as con:
        assert con.execute("select count(*) from fct_feed_loads where feed = 'enrollments'").fetchone() == (0,)
        assert con.execute("select count(*) from base_benefits__enrollments").fetchone() == (0,)


def executed_claims_read(ws) -> str:
    """The SQL dbt ran for base_benefits__claims in the workspace's last run."""
    return next((ws.target_path / "run").rglob("base_benefits__claims.sql")).read_text()


SPLIT_EVERY_FILE = ("--full-refresh", "--vars", "{feed_split_min_bytes: 1, feed_read_branches: 3}")


@pytest.mark.parametrize("mode", [(), ("--full-refresh",), SPLIT_EVERY_FILE],
                         ids=["new_file", "full_refresh", "full_refresh_split_reads"])
def test_invalid_utf8_crlf_and_blank_lines_are_rejected_alone_with_their_line(rel_built, tmp_path, mode):
    """A line that is not UTF-8 is rejected with its own reason and line; the lines after it, a CRLF
    line and a blank line keep their line numbers; the rest of the feed loads (exit 0). Whether the
    file is new to an incremental run or read again by a full refresh, also when every file is read
    in parallel branches (big files are)."""
    ws = copy_workspace(rel_built, tmp_path)
    good = [claim_line("valid", "", 990_000_000_001 + i).encode() for i in range(3)]
    (ws.raw_dir / FUZZ_FILE).write_bytes(good[0] + b"\n" + b'{"claim_id":2,"x":"\xff\xfe"}\n' + good[1] + b"\r\n"
                                         + b"\n" + good[2] + b"\n")
    done = invoke(ws, "build", "-s", "base_benefits__claims+", *mode)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr, done.stderr
    loads, rejects, accepted = feed_facts(ws, "claims", FUZZ_FILE.split("/")[-1])
    assert loads == (5, 3, 2)
    assert rejects == {2: "invalid_utf8", 4: "blank_line"}
    assert accepted == {990_000_000_001, 990_000_000_002, 990_000_000_003}
    with connect(ws) as con:
        lines = dict(con.execute("select claim_id, source_line from base_benefits__claims where source_file = ? "
                                 "and reject_reason is null", [FUZZ_FILE.split("/")[-1]]).fetchall())
    assert lines == {990_000_000_001: 1, 990_000_000_002: 3, 990_000_000_003: 5}


def test_split_reads_load_every_line_once_with_its_own_number(rel_built, tmp_path):
    """Every claims file read in parallel branches (as big files are): each physical line is one row,
    numbered as in the file, and carries that line's claim_id (parsed here by Python)."""
    ws = copy_workspace(rel_built, tmp_path)
    done = invoke(ws, "run", "-s", "base_benefits__claims", *SPLIT_EVERY_FILE)
    assert done.returncode == 0, done.stderr
    run_sql = executed_claims_read(ws)
    assert "ordinality % 3 = 2" in run_sql  # the files were read in three branches
    expected_lines, expected_ids = set(), {}
    for path in sorted((ws.raw_dir / "claims").glob("*.jsonl")):
        for number, line in enumerate(path.read_bytes().split(b"\n")[:-1], start=1):
            expected_lines.add((path.name, number))
            expected_ids[(path.name, number)] = json.loads(line)["claim_id"]
    with connect(ws) as con:
        rows = con.execute("select source_file, source_line, claim_id from base_benefits__claims").fetchall()
    assert len(rows) == len(expected_lines) > 1000
    assert {(file, line) for file, line, _ in rows} == expected_lines
    assert all(int(expected_ids[(file, line)]) == claim_id for file, line, claim_id in rows if claim_id is not None)


def test_a_lone_big_file_is_read_in_as_many_branches_as_duckdb_has_threads(rel_built, tmp_path):
    """The automatic split: a file that is the whole read gets one branch per DuckDB thread (at most 8)."""
    ws = copy_workspace(rel_built, tmp_path)
    files = sorted((ws.raw_dir / "claims").glob("*.jsonl"), key=lambda path: path.stat().st_size)
    for path in files[:-1]:
        path.unlink()
    done = invoke(ws, "run", "-s", "base_benefits__claims", "--full-refresh", "--vars", "{feed_split_min_bytes: 1}")
    assert done.returncode == 0, done.stderr
    branches = min(8, duckdb.connect().execute("select current_setting('threads')").fetchone()[0])
    run_sql = executed_claims_read(ws)
    assert (f"ordinality % {branches} = {branches - 1}" in run_sql) if branches > 1 else ("ordinality %" not in run_sql)
    with connect(ws) as con:
        lines = con.execute("select count(*), count(distinct source_line), max(source_line) from base_benefits__claims").fetchone()
    expected = files[-1].read_bytes().count(b"\n")
    assert lines == (expected, expected, expected)


def test_changed_feed_columns_are_named_with_their_file(rel_built, tmp_path):
    """Renamed, moved, added and missing columns: the build carries on and each is named with its file."""
    ws = copy_workspace(rel_built, tmp_path)
    rename_header(ws.raw_dir / "employees.csv", "email", "email_address")
    rename_header(ws.raw_dir / "companies.csv", "industry,state", "state,industry")
    add_column(ws.raw_dir / "enrollments.csv", "coverage_note")
    first, second = sorted((ws.raw_dir / "claims").glob("*.jsonl"))[-2:]
    rewrite_json(first, lambda claim: claim.pop("severity"))
    rewrite_json(second, lambda claim: claim.update(claim_amount=claim.pop("amount")))
    done = invoke(ws, "build", "-s", "base_benefits__claims base_benefits__employees base_benefits__companies "
                  "base_benefits__enrollments stg_benefits__employees stg_benefits__claims")
    warnings = [ln for ln in done.stderr.splitlines() if "FeedContract" in ln]
    for expected in ("feed employees.csv: column 'email' is named 'email_address'",
                     "feed companies.csv: column 'industry' moved", "feed companies.csv: column 'state' moved",
                     "feed enrollments.csv: column 'coverage_note' is not in the contract",
                     f"feed claims/{first.name}: column 'severity' is missing",
                     f"feed claims/{second.name}: column 'amount' is missing",
                     f"feed claims/{second.name}: column 'claim_amount' is not in the contract"):
        assert any(expected in ln for ln in warnings), (expected, warnings)
    assert done.returncode in (0, 1) and "Traceback" not in done.stderr  # the build carried on
    with connect(ws) as con:  # the file without severity: its nulls are announced above, not silent
        assert con.execute("select count(*) from base_benefits__claims where source_file = ? and severity is null"
                           " and reject_reason is null", [first.name]).fetchone()[0] > 0


def rename_header(path, old: str, new: str) -> None:
    header, rest = path.read_text().split("\n", 1)
    path.write_text(header.replace(old, new, 1) + "\n" + rest)


def add_column(path, name: str) -> None:
    lines = path.read_text().splitlines()
    path.write_text("\n".join([lines[0] + f",{name}"] + [line + ",x" for line in lines[1:]]) + "\n")


def rewrite_json(path, change) -> None:
    claims = [json.loads(line) for line in path.read_text().splitlines()]
    for claim in claims:
        change(claim)
    path.write_text("".join(json.dumps(claim) + "\n" for claim in claims))
