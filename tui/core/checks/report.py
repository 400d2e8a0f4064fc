"""The incident record: Markdown (timeline, findings with evidence, the checks skipped as not
applicable, steps and notes, the queries used) and JSON (`{"findings": [...], "skipped": [...]}`
plus context). Aggregates only: findings never carry personal
values (profiles keep counts only for personal columns), and notes are the engineer's own words.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from tui.core.checks.causes import Cause, build_causes
from tui.core.checks.findings import FAIL, PASS, WARN, Finding, counts
from tui.core.checks.incident import IncidentSession, write_atomic
from tui.core.checks.lineage import Lineage
from tui.core.checks.playbook import Playbook

MAX_SQL = 1200


def stamp(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def skipped(session: IncidentSession) -> list[dict[str, str]]:
    """Checks and rules that do not apply to the project, each once (the first step that met it)."""
    seen: dict[str, dict[str, str]] = {}
    for sid, state in session.steps.items():
        for what, reason in (state.result.skipped if state.result else ()):
            seen.setdefault(what, {"check": what, "reason": reason, "step": sid})
    return list(seen.values())


def lineage_of(workspace: Any) -> Lineage | None:
    """The workspace's lineage from its manifest, or None when there is none to read."""
    from tui.core.project import load_project

    try:
        return Lineage.from_project(load_project(workspace.target_path))
    except Exception:  # noqa: BLE001 - causes then fall back to objects without lineage
        return None


def findings_json(session: IncidentSession, lineage: Lineage | None = None) -> dict[str, Any]:
    findings = session.findings()
    return {"causes": [c.to_dict() for c in build_causes(findings, lineage)],
            "findings": [f.to_dict() for f in findings], "counts": counts(findings), "skipped": skipped(session),
            "latest_run_id": session.latest_run_id, "baseline_run_id": session.baseline_run_id,
            "started_at": stamp(session.started_at),
            "steps": [{"step": sid, "status": s.result.status, "seconds": round(s.result.seconds, 3),
                       "family_seconds": dict(s.result.family_seconds)} for sid, s in session.steps.items() if s.result]}


def markdown(session: IncidentSession, playbook: Playbook, lineage: Lineage | None = None) -> str:
    findings = session.findings()
    tally = counts(findings)
    lines = [f"# Incident triage: {stamp(session.started_at)}", "",
             f"- Run triaged: `{session.latest_run_id or 'none recorded'}`",
             f"- Baseline run: `{session.baseline_run_id or 'none (first triage)'}`",
             f"- Findings: **{tally[FAIL]} fail**, {tally[WARN]} warn, {tally[PASS]} pass", ""]
    lines += _causes(build_causes(findings, lineage)) + _timeline(session) + _findings(findings) + _skipped(session)
    lines += _steps(session, playbook) + _notes(session) + _queries(session, playbook)
    return "\n".join(lines).rstrip() + "\n"


def _causes(causes: list[Cause]) -> list[str]:
    lines = ["## Likely causes", ""]
    if not causes:
        return lines + ["No check failed or warned.", ""]
    for number, cause in enumerate(causes, 1):
        lines.append(f"{number}. **{cause.status.upper()}** `{cause.kind}`: {cause.summary}")
        for symptom in cause.symptoms:
            lines.append(f"   - {symptom.status}: `{' > '.join(symptom.path)}`"
                         f"{' column `' + symptom.column + '`' if symptom.column else ''}: {_cell(symptom.summary)}")
    return lines + [""]


def _timeline(session: IncidentSession) -> list[str]:
    rows = [f"| {stamp(at)} | +{_minutes(at - session.started_at)} | {_cell(text)} |" for at, text in sorted(session.timeline)]
    return ["## Timeline", "", "| time | since start | event |", "|---|---|---|", *rows, ""]


def _minutes(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def _findings(findings: list[Finding]) -> list[str]:
    lines = ["## Findings", ""]
    bad = [f for f in findings if f.status != PASS]
    if not bad:
        lines += ["No check failed or warned.", ""]
    for f in bad:
        where = f"`{f.object}`" + (f" column `{f.column}`" if f.column else "")
        lines += [f"### {f.status.upper()}: {where} ({f.check})", "", f.summary, ""]
        lines += [f"- {key}: {_value(value)}" for key, value in f.evidence.items() if value not in (None, [], {})]
        lines.append("")
    passed = [f for f in findings if f.status == PASS]
    if passed:
        lines += ["<details><summary>Passed checks</summary>", "", "| check | object | summary |", "|---|---|---|"]
        lines += [f"| {f.check} | {_cell(f.object)} | {_cell(f.summary)} |" for f in passed]
        lines += ["", "</details>", ""]
    return lines


def _skipped(session: IncidentSession) -> list[str]:
    rows = skipped(session)
    if not rows:
        return []
    return ["## Skipped (not applicable to this project)", "", "| check | why |", "|---|---|",
            *[f"| {_cell(r['check'])} | {_cell(r['reason'])} |" for r in rows], ""]


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, default=str)
        return f"`{text[:400]}{'…' if len(text) > 400 else ''}`"
    return str(value)


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _steps(session: IncidentSession, playbook: Playbook) -> list[str]:
    lines = ["## Steps", ""]
    for phase in playbook.phases:
        lines += [f"### {phase.title}", ""]
        for step in phase.steps:
            state = session.state(step.id)
            mark = "x" if state.done else " "
            verdict = f"{state.result.status}: {state.result.verdict}" if state.result else "not run"
            lines.append(f"- [{mark}] **{step.title}**: {verdict}")
            if state.notes.strip():
                lines.append(f"  - notes: {_cell(state.notes.strip())}")
        lines.append("")
    return lines


def _notes(session: IncidentSession) -> list[str]:
    return ["## Notes", "", session.notes.strip() or "(none)", ""]


def _queries(session: IncidentSession, playbook: Playbook) -> list[str]:
    lines = ["## Queries used", ""]
    for step in playbook.steps:
        result = session.state(step.id).result
        if not result or not result.queries:
            continue
        lines += [f"### {step.title}", ""]
        for query in result.queries:
            sql = query.sql if len(query.sql) <= MAX_SQL else query.sql[:MAX_SQL] + " …"
            lines += [f"- {query.label} ({query.seconds:.3f}s, {query.rows} rows)", "", "```sql", sql, "```", ""]
    return lines


def write_reports(session: IncidentSession, playbook: Playbook, markdown_path: Path | None, json_path: Path | None,
                  lineage: Lineage | None = None) -> None:
    if markdown_path is not None:
        write_atomic(Path(markdown_path), markdown(session, playbook, lineage))
    if json_path is not None:
        write_atomic(Path(json_path), json.dumps(findings_json(session, lineage), indent=2, default=str) + "\n")
