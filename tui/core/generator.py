"""Synthetic raw feeds for the embedded dbt project, drawn in DuckDB SQL.

Provides `generate()` (a whole raw folder for a scenario in `fixtures/`), `add_next_day()` (append
the next day's clean claims feed to a generated folder), `load_scenario()`, `size_preset()` and the
`GenerationSummary` they return. Output layout (the raw feed contract, see README "feeds"):
`companies.csv`, `employees.csv`, `plans.json`, `enrollments.csv`, `claims/claims_<date>.jsonl`,
plus `ground_truth.json` (injected defects) and `generator.json` (the parameters, for add_next_day).

Same parameters, same bytes (whatever the thread count or memory limit); day N's claims file
depends only on the seed, N and the sizes, so generating N + 1 days reproduces the first N files
and adds one. Claims files stream from SQL to disk, each split across threads in contiguous shares
(`generator_claims.write_lines`); the private DuckDB has a memory limit (`default_memory_limit()`)
and spills to a temp folder.

Dates: every feed is anchored at the start date (scenario default, or `start_date`). With
`end_date` (a date or "today", UTC) the start is counted back so the last file is that day, and the
entity feeds are extracted as of the end of that day, or now if earlier: no timestamp lies after
the extract and each feed's newest edit is within the hour before it, so `dbt source freshness`
passes on data ending today. Without `end_date` the entity feeds do not depend on the number of days.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import yaml

from tui.core import generator_defects as defects
from tui.core.generator_claims import (claims_sql, day_plan_sql, define_constants, json_line_sql, slots_for_day,
                                      write_lines)
from tui.core.generator_sql import LAST_SECOND, Params, employee_last_updated_sql, extract_stamp_sql, iso, setup_sql

SCENARIOS = ("baseline", "incident")
METADATA_FILE = "generator.json"


@dataclass(frozen=True)
class Sizes:
    companies: int
    employees: int
    claims_per_day: int
    days: int


@dataclass(frozen=True)
class GenerationSummary:
    out_dir: Path
    scenario: str
    seed: int
    sizes: Sizes
    files: tuple[str, ...]  # paths relative to out_dir, in write order
    rows: dict[str, int] = field(hash=False)  # rows written per feed (claims: lines, all files)
    seconds: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


class ScenarioError(ValueError):
    """Unknown scenario or size, or impossible sizes."""


def fixtures_dir() -> Path:
    """The scenario folder: the repository's `fixtures/`, or the copy bundled in the wheel."""
    package = Path(__file__).resolve().parents[1]
    for candidate in (package.parent / "fixtures", package / "_bundled" / "fixtures"):
        if (candidate / "baseline.yaml").is_file():
            return candidate
    raise ScenarioError("fixtures folder not found (reinstall pipeline-tui)")


def load_scenario(name: str) -> dict:
    """A scenario's settings, with `extends:` resolved (the child's keys win, nested dicts merge)."""
    path = fixtures_dir() / f"{name}.yaml"
    if not path.is_file():
        raise ScenarioError(f"unknown scenario {name!r}; choose one of {', '.join(SCENARIOS)}")
    scenario = yaml.safe_load(path.read_text())
    parent = scenario.pop("extends", None)
    return _merge(load_scenario(parent), scenario) if parent else scenario


def size_preset(name: str) -> Sizes:
    presets = yaml.safe_load((fixtures_dir() / "sizes.yaml").read_text())
    if name not in presets:
        raise ScenarioError(f"unknown size {name!r}; choose one of {', '.join(presets)}")
    return Sizes(**presets[name])


def generate(out_dir: str | Path, scenario: str = "baseline", *, seed: int | None = None,
             size: str | None = None, companies: int | None = None, employees: int | None = None,
             claims_per_day: int | None = None, days: int | None = None, start_date: date | str | None = None,
             end_date: date | str | None = None, malformed: bool = False, memory_limit: str | None = None,
             threads: int | None = None) -> GenerationSummary:
    """Write a scenario's raw feeds into `out_dir` (its old claims files are replaced).

    Give `start_date` (first claims day) or `end_date` (last file's day, or "today"), not both.
    `memory_limit` (DuckDB syntax, e.g. "2GB") defaults to `default_memory_limit()`; `threads` to one
    per core. Neither changes the bytes written."""
    began = time.perf_counter()
    settings = load_scenario(scenario)
    base = size_preset(size or settings.get("size", "demo"))
    sizes = Sizes(companies or base.companies, employees or base.employees,
                  claims_per_day or base.claims_per_day, base.days if days is None else days)
    if min(asdict(sizes).values()) < 1:
        raise ScenarioError("companies, employees, claims per day and days must all be at least 1")
    params = _params(settings, sizes, seed, start_date, end_date)
    out = _prepare(Path(out_dir))
    with _GeneratorDb(params, sizes.days, memory_limit, threads) as con:
        rows, files = _write_entities(con, params, out, settings, sizes.days)
        for day in range(sizes.days):
            files.append(_write_claims_day(con, params, out, day, rows))
        truth = []
        if "partner_feed" in settings:
            truth += defects.write_partner_feed(con, params, out, settings, sizes.days, rows, files)
        if malformed:
            truth += defects.append_malformed(out, params, rows, files)
    if truth:
        defects.write_ground_truth(out, scenario, truth)
        files.append(defects.GROUND_TRUTH_FILE)
    _write_metadata(out, scenario, params, sizes, malformed)
    return GenerationSummary(out, scenario, params.seed, sizes, tuple(files), rows, time.perf_counter() - began)


def add_next_day(out_dir: str | Path) -> GenerationSummary:
    """Append the next clean claims file to a folder made by `generate()` (same seed and sizes)."""
    began = time.perf_counter()
    out = Path(out_dir)
    meta_path = out / METADATA_FILE
    if not meta_path.is_file():
        raise ScenarioError(f"{out} was not made by the generator ({METADATA_FILE} missing)")
    meta = json.loads(meta_path.read_text())
    settings = load_scenario(meta["scenario"])
    sizes = Sizes(**meta["sizes"])
    params = _params(settings, sizes, meta["seed"], meta["start_date"], as_of=meta.get("as_of"))
    day, rows = sizes.days, {"claims": 0}
    with _GeneratorDb(params, last_day=day) as con:
        files = [_write_claims_day(con, params, out, day, rows)]
    grown = Sizes(sizes.companies, sizes.employees, sizes.claims_per_day, day + 1)
    _write_metadata(out, meta["scenario"], params, grown, meta["malformed"])
    return GenerationSummary(out, meta["scenario"], params.seed, grown, tuple(files), rows,
                             time.perf_counter() - began)


def add_incident(raw_dir: str | Path, out_dir: str | Path | None = None) -> GenerationSummary:
    """Add the incident (the partner feed and the duplicated enrollments, as `generate(scenario=
    "incident")` makes them) to a folder made by `generate()`, as the delivery after its last file.
    With `out_dir`, the folder is copied there first and only the copy changes. The ground truth
    is written beside the feeds."""
    began = time.perf_counter()
    raw = Path(raw_dir)
    meta_path = raw / METADATA_FILE
    if not meta_path.is_file():
        raise ScenarioError(f"{raw} was not made by the generator ({METADATA_FILE} missing): "
                            f"run `pipeline-tui fixtures generate --out {raw}` first")
    meta = json.loads(meta_path.read_text())
    out = Path(out_dir) if out_dir is not None else raw
    if out.resolve() != raw.resolve():
        shutil.copytree(raw, out, dirs_exist_ok=True)
    settings = load_scenario("incident")
    sizes = Sizes(**meta["sizes"])
    params = _params(settings, sizes, meta["seed"], meta["start_date"], as_of=meta.get("as_of"))
    if any((out / "claims").glob(f"*_{settings['partner_feed']['name']}.jsonl")):
        raise ScenarioError(f"{out} already has a partner feed: the incident was added before")
    rows: dict[str, int] = {"claims": 0}
    files: list[str] = ["enrollments.csv"]
    with _GeneratorDb(params, last_day=sizes.days) as con:
        rows["enrollments"] = _copy(con, defects.enrollments_with_duplicates_sql(params, settings, day=sizes.days),
                                    out / "enrollments.csv", "header, delimiter ','")
        truth = defects.write_partner_feed(con, params, out, settings, sizes.days, rows, files)
    defects.write_ground_truth(out, "incident", truth)
    files.append(defects.GROUND_TRUTH_FILE)
    return GenerationSummary(out, "incident", params.seed, sizes, tuple(files), rows, time.perf_counter() - began)


def claims_file_name(params: Params, day: int, feed: str = "") -> str:
    suffix = f"_{feed}" if feed else ""
    return f"claims/claims_{params.start + timedelta(days=day)}{suffix}.jsonl"


def _params(settings: dict, sizes: Sizes, seed: int | None, start_date: date | str | None,
            end_date: date | str | None = None, as_of: datetime | str | None = None) -> Params:
    if end_date is None:
        start = _as_date(start_date or settings["start_date"])
        as_of = datetime.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    else:
        if start_date is not None:
            raise ScenarioError("give a start date or an end date, not both")
        start, as_of = _dates_ending(settings, sizes.days, end_date)
    seed = int(settings.get("seed", 42) if seed is None else seed)
    if not 0 <= seed < 2**63:
        raise ScenarioError("seed must be a non-negative integer")
    return Params(seed=seed, companies=sizes.companies,
                  employees=sizes.employees, claims_per_day=sizes.claims_per_day, start=start,
                  entities=settings["entities"], claims=settings["claims"], as_of=as_of)


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _dates_ending(settings: dict, days: int, end_date: date | str) -> tuple[date, datetime]:
    """First claims day and extract time for data whose last file is `end_date` ("today": UTC)."""
    now = datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    end = now.date() if end_date == "today" else _as_date(end_date)
    if end > now.date():
        raise ScenarioError(f"end date {end} is in the future (today is {now.date()} UTC)")
    last_file = days - 1 + (1 if "partner_feed" in settings else 0)  # the incident's feed comes last
    return end - timedelta(days=last_file), min(datetime.combine(end, LAST_SECOND), now)


def _prepare(out: Path) -> Path:
    (out / "claims").mkdir(parents=True, exist_ok=True)
    for stale in (out / "claims").glob("*.jsonl"):
        stale.unlink()
    (out / defects.GROUND_TRUTH_FILE).unlink(missing_ok=True)
    return out


def default_memory_limit() -> str:
    """`PIPELINE_TUI_MEMORY_LIMIT` if set (the DuckDB limit every part of pipeline-tui honours), else a
    quarter of the machine's memory, at most 4 GiB: the claims stream to disk, so the generator needs
    far less (it holds the entity and lookup tables, and spills to a temp folder beyond the limit)."""
    if limit := os.environ.get("PIPELINE_TUI_MEMORY_LIMIT"):
        return limit
    try:
        total_mib = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    except (ValueError, OSError, AttributeError):
        total_mib = 4096
    return f"{max(512, min(4096, total_mib // 4))}MiB"


class _GeneratorDb:
    """A private in-memory DuckDB holding the entity, lookup and day-plan tables, with a memory limit
    and a temp folder (under TMPDIR) to spill to; `threads` None is one per core."""

    def __init__(self, params: Params, last_day: int, memory_limit: str | None = None, threads: int | None = None):
        self.params, self.last_day = params, last_day
        self.memory_limit, self.threads = memory_limit or default_memory_limit(), threads

    def __enter__(self) -> duckdb.DuckDBPyConnection:
        self.tmp = tempfile.TemporaryDirectory(prefix="pipeline-tui-gen-")
        # the claims query's hash joins build on the small lookup tables, never on the claims
        config = {"temp_directory": self.tmp.name, "memory_limit": self.memory_limit,
                  "disabled_optimizers": "build_side_probe_side"}
        if self.threads:
            config["threads"] = self.threads
        try:
            self.con = duckdb.connect(config=config)
        except duckdb.Error as error:
            self.tmp.cleanup()
            raise ScenarioError(f"cannot open the generator's DuckDB (memory limit {self.memory_limit!r}): "
                                f"{str(error).splitlines()[0]}") from error
        self.con.execute("set enable_progress_bar = false")
        for statement in setup_sql(self.params) + day_plan_sql(self.params, self.last_day):
            self.con.execute(statement)
        define_constants(self.con)
        return self.con

    def __exit__(self, *exc) -> None:
        self.con.close()
        self.tmp.cleanup()


def _copy(con: duckdb.DuckDBPyConnection, query: str, path: Path, options: str) -> int:
    return con.execute(f"copy ({query}) to '{path}' ({options})").fetchone()[0]


def _write_entities(con, params: Params, out: Path, settings: dict, days: int) -> tuple[dict[str, int], list[str]]:
    csv = "header, delimiter ','"
    enrollments = defects.enrollments_with_duplicates_sql(params, settings, day=days)
    company, plan = (iso(extract_stamp_sql(params, feed, "last_updated", key))
                     for feed, key in (("companies", "company_id"), ("plans", "plan_id")))
    employee = iso(extract_stamp_sql(params, "employees", employee_last_updated_sql(params), "employee_id"))
    rows = {
        "companies": _copy(con, f"select company_id, company_name, industry, state, {company} "
                                f"as last_updated from companies", out / "companies.csv", csv),
        "employees": _copy(con, f"select employee_id, company_id, first_name, last_name, email, department, "
                                f"hire_date, termination_date, {employee} "
                                f"as last_updated from employees", out / "employees.csv", csv),
        "plans": _copy(con, f"select plan_id, company_id, plan_name, plan_type, carrier, monthly_premium, "
                            f"deductible, {plan} as last_updated from plans order by plan_id",
                       out / "plans.json", "format json, array true"),
        "enrollments": _copy(con, enrollments, out / "enrollments.csv", csv),
        "claims": 0,
    }
    return rows, ["companies.csv", "employees.csv", "plans.json", "enrollments.csv"]


def _write_claims_day(con, params: Params, out: Path, day: int, rows: dict[str, int]) -> str:
    counts = dict(con.execute(f"select day, n_base + n_spike from day_plan where day <= {day}").fetchall())
    name = claims_file_name(params, day)
    rows["claims"] += write_lines(con, slots_for_day(params, day, counts),
                                  lambda source: f"select {json_line_sql()} from ({claims_sql(params, source, day)})",
                                  out / name)
    return name


def _write_metadata(out: Path, scenario: str, params: Params, sizes: Sizes, malformed: bool) -> None:
    meta = {"scenario": scenario, "seed": params.seed, "start_date": str(params.start),
            "as_of": params.as_of and params.as_of.isoformat(), "sizes": asdict(sizes), "malformed": malformed,
            "next_day": str(params.start + timedelta(days=sizes.days))}
    (out / METADATA_FILE).write_text(json.dumps(meta, indent=2) + "\n")


def _merge(base: dict, override: dict) -> dict:
    merged = dict(base)
    for key, value in override.items():
        merged[key] = _merge(base[key], value) if isinstance(value, dict) and isinstance(base.get(key), dict) else value
    return merged
