"""Runs check families and playbook steps against a warehouse, and keeps baselines in history.

    ctx = open_context(workspace)             # latest run, baseline chosen automatically
    result = run_step(ctx, playbook.step("outputs"))   # -> StepResult (findings, tables, verdict)
    findings = run_families(ctx, ["drift", "keys"])
    save_facts(ctx)                            # this run's profiles etc. become a later baseline

`FAMILIES` maps a family name (as used in `checks/playbook.yml` and `check.families`) to a function
of the context returning findings. A family that raises becomes one warn finding; triage goes on.
A check that does not apply to the project (`ctx.skip`) is no finding: the step lists it as skipped,
and a step with nothing to check at all is `skipped`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Any, Callable

from tui.core.checks.causes import build_causes
from tui.core.checks.changes import freshness_findings, git_findings, raw_file_findings
from tui.core.checks.context import Cancelled, CheckContext
from tui.core.checks.contract import contract_findings
from tui.core.checks.drift import drift_findings
from tui.core.checks.findings import FAIL, PASS, WARN, Finding, QueryRecord, by_severity, counts, worst
from tui.core.checks.incremental import incremental_findings
from tui.core.checks.integrity import integrity_findings
from tui.core.checks.keys import key_findings
from tui.core.checks.lineage import Lineage
from tui.core.checks.performance import performance_findings
from tui.core.checks.plans import plan_findings
from tui.core.checks.playbook import Step
from tui.core.checks.results import result_findings
from tui.core.checks.rules import rule_findings
from tui.core.reads import relations_read


def _profile(ctx: CheckContext) -> list[Finding]:
    found = []
    for name, p in ctx.profiles().items():
        split = f", newest delivery {p.groups['newest']['rows']:,} rows of {len(p.deliveries)}" if "newest" in p.groups else ""
        found.append(Finding("profile", PASS, name, None, f"{p.rows:,} rows, {len(p.kinds)} columns{split} ({p.seconds:.2f}s)",
                             {"rows": p.rows, "columns": len(p.kinds), "deliveries": len(p.deliveries), "seconds": round(p.seconds, 3)}))
    for error in ctx.facts.get("errors", []):
        found.append(Finding("profile", WARN, error.split(":")[0].replace("profile ", ""), None, error, {}))
    return found


def _drift(ctx: CheckContext) -> list[Finding]:
    event_times = {s.object: s.loaded_at for s in ctx.specs() if s.loaded_at}
    return drift_findings(list(ctx.profiles().values()), ctx.baseline.profiles(), ctx.config, event_times)


def _suspects(ctx: CheckContext) -> list[Finding]:
    return []  # a summary table of earlier findings (see suspect_table), no findings of its own


SUSPECTS = "Suspect objects"
SKIPPED = "skipped"  # a step status: nothing of it applies to the project

FAMILIES: dict[str, Callable[[CheckContext], list[Finding]]] = {
    "results": result_findings,
    "profile": _profile,
    "drift": _drift,
    "keys": key_findings,
    "integrity": integrity_findings,
    "rules": lambda ctx: rule_findings(ctx, "business"),
    "performance": performance_findings,
    "suspects": _suspects,
    "git": git_findings,
    "raw_files": raw_file_findings,
    "feed_contract": contract_findings,
    "freshness": freshness_findings,
    "plans": plan_findings,
    "incremental": incremental_findings,
}


@dataclass(frozen=True)
class Table:
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class StepResult:
    step: str
    status: str  # worst finding status, "error", or "skipped" (nothing to check)
    verdict: str
    findings: tuple[Finding, ...]
    tables: tuple[Table, ...] = ()
    queries: tuple[QueryRecord, ...] = ()
    started_at: float = 0.0
    seconds: float = 0.0
    error: str | None = None
    family_seconds: tuple[tuple[str, float], ...] = ()  # time each check family of the step took
    skipped: tuple[tuple[str, str], ...] = ()  # (check or rule id, why it does not apply)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [f.to_dict() for f in self.findings]
        data["queries"] = [q.to_dict() for q in self.queries]
        data["family_seconds"] = dict(self.family_seconds)
        data["skipped"] = [list(s) for s in self.skipped]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StepResult:
        tables = tuple(Table(t["title"], tuple(t["columns"]), tuple(tuple(r) for r in t["rows"])) for t in data.get("tables", []))
        return cls(data["step"], data["status"], data["verdict"], tuple(Finding.from_dict(f) for f in data.get("findings", [])),
                   tables, tuple(QueryRecord.from_dict(q) for q in data.get("queries", [])),
                   float(data.get("started_at", 0.0)), float(data.get("seconds", 0.0)), data.get("error"),
                   tuple((k, float(v)) for k, v in (data.get("family_seconds") or {}).items()),
                   tuple((str(s[0]), str(s[1])) for s in data.get("skipped") or []))


def run_families(ctx: CheckContext, families: list[str] | tuple[str, ...], step: str | None = None) -> list[Finding]:
    found: list[Finding] = []
    for family in families:
        ctx.check_cancelled()
        ctx.progress(f"running {family} checks", None)
        clock = time.perf_counter()
        try:
            results = FAMILIES[family](ctx)
        except KeyError as error:
            if family not in FAMILIES:
                raise ValueError(f"unknown check family {family!r}: use one of {', '.join(FAMILIES)}") from error
            raise
        except Cancelled:
            raise
        except Exception as error:  # noqa: BLE001 - one broken family must not end the triage
            first = (str(error).splitlines() or [type(error).__name__])[0]
            results = [Finding(family, WARN, "run", None, f"{family} checks could not run: {first}", {"error": type(error).__name__})]
        finally:
            ctx.family_seconds[family] = ctx.family_seconds.get(family, 0.0) + time.perf_counter() - clock
        results = [Finding(f.check, f.status, f.object, f.column, f.summary, f.evidence, step) for f in results]
        ctx.findings.extend(results)
        found += results
    return found


def run_step(ctx: CheckContext, step: Step) -> StepResult:
    started, first_query, outer = time.time(), len(ctx.runner.queries), ctx.skipped
    clock = time.perf_counter()
    ctx.skipped = {}  # this step's own skips (a step run again lists them again)
    try:
        findings = run_families(ctx, step.checks, step.id)
        error = None
    except Cancelled as stop:
        findings, error = [], str(stop)
    finally:
        skipped, ctx.skipped = tuple(ctx.skipped.items()), {**outer, **ctx.skipped}
    tables = step_tables(ctx, step, findings)
    status = "error" if error else worst(findings)
    if not findings and not error and tables and tables[0].title == SUSPECTS and tables[0].rows:
        status = FAIL if any(r[0] == FAIL for r in tables[0].rows) else WARN
    said = error or verdict(findings, tables)
    if not findings and not error and not tables:
        status, said = SKIPPED, "nothing to check" + (f": {'; '.join(dict.fromkeys(v for _, v in skipped))}" if skipped else "")
    timings = tuple((f, round(ctx.family_seconds[f], 3)) for f in step.checks if f in ctx.family_seconds)
    return StepResult(step.id, status, said, tuple(by_severity(findings)), tables,
                      tuple(ctx.runner.queries[first_query:]), started, time.perf_counter() - clock, error, timings, skipped)


def verdict(findings: list[Finding], tables: tuple[Table, ...] = ()) -> str:
    tally = counts(findings)
    bad = [f for f in by_severity(findings) if f.status != PASS]
    suspects = next((t for t in tables if t.title == SUSPECTS), None)
    if suspects is not None and not findings:
        names = ", ".join(str(r[1]) for r in suspects.rows[:4])
        return f"{len(suspects.rows)} objects with warnings or failures: {names}" if suspects.rows else "no object flagged so far"
    if not bad:
        return f"all {tally[PASS]} checks pass" if findings else "nothing to check"
    objects = list(dict.fromkeys(f.object for f in bad))
    return f"{tally[FAIL]} fail, {tally[WARN]} warn, {tally[PASS]} pass; worst: {', '.join(objects[:4])}"


def step_tables(ctx: CheckContext, step: Step, findings: list[Finding]) -> tuple[Table, ...]:
    tables = []
    if "profile" in step.checks and ctx._profiles:
        rows = tuple((p.object, p.rows, len(p.kinds), len(p.deliveries), (p.groups.get("newest") or {}).get("rows", ""),
                      round(p.seconds, 3)) for p in ctx._profiles.values())
        tables.append(Table("Profiles", ("object", "rows", "columns", "deliveries", "newest rows", "seconds"), rows))
    if "suspects" in step.checks:
        tables.append(suspect_table(ctx.findings, Lineage.from_project(ctx.project)))
    if findings:
        tables.append(Table("Findings", ("status", "check", "object", "column", "summary"),
                            tuple((f.status, f.check, f.object, f.column or "", f.summary) for f in by_severity(findings))))
    return tuple(tables)


def suspect_table(findings: list[Finding], lineage: Lineage | None = None) -> Table:
    """Objects with warnings or failures, in the order of the likely causes they carry (a cause's own
    object first, then the objects its symptoms sit on), then by their counts."""
    by_object: dict[str, list[Finding]] = {}
    for finding in findings:
        if finding.status != PASS:
            by_object.setdefault(finding.object, []).append(finding)
    order: dict[str, int] = {}
    for index, cause in enumerate(build_causes(findings, lineage)):
        for name in [cause.object] + [s.object for s in cause.symptoms]:
            order.setdefault(name, index)
    rows = sorted(((worst(fs), obj, counts(fs)[FAIL], counts(fs)[WARN], ", ".join(sorted({f.check for f in fs})))
                   for obj, fs in by_object.items()),
                  key=lambda r: (order.get(r[1], len(order)), r[0] != FAIL, -r[2], -r[3], r[1]))
    return Table(SUSPECTS, ("status", "object", "fail", "warn", "checks"), tuple(rows))


FACTS_OBJECT, FACTS_KIND = "triage", "facts"


def save_facts(ctx: CheckContext) -> int | None:
    """Keep this run's facts (profiles, key stats, rule values, plans) as a baseline for later runs."""
    if ctx.history is None:
        return None
    payload = {k: v for k, v in ctx.facts.items() if k != "errors"}
    payload["worst"] = worst(ctx.findings)
    payload["run_started_at"] = getattr(ctx.latest_run, "started_at", None)
    payload["git_rev"] = getattr(ctx.latest_run, "git_rev", None)
    payload["reads"] = relations_read(ctx.runner.queries)  # what the checks read (tui.core.reads)
    return ctx.history.put_profile(FACTS_OBJECT, payload, run_id=getattr(ctx.latest_run, "run_id", None), kind=FACTS_KIND)

