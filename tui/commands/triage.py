"""`pipeline-tui triage` (the whole first-30-minute playbook, headless, with an incident report) and
`pipeline-tui check` (the checks as a CI guardrail: exit 0 all pass, 1 any fail, 2 could not run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

from tui.commands.output import EXIT_FAILED, EXIT_OK, diag, fail

app = typer.Typer()

BaselineOpt = Annotated[Optional[str], typer.Option("--baseline", help="Run id to compare with (default: the newest earlier run with stored checks and no failure).")]
ChecksDirOpt = Annotated[Optional[list[Path]], typer.Option("--checks-dir", help="Extra folder of thresholds.yml / rules/*.yml / playbook.yml (repeatable).")]


def _workspace(ctx: typer.Context):
    if ctx.obj is None:
        fail("no workspace resolved (internal): run through the pipeline-tui command")
    return ctx.obj


@app.command()
def triage(
    ctx: typer.Context,
    report: Annotated[Optional[Path], typer.Option("--report", help="Write the incident report (Markdown) here.")] = None,
    json_path: Annotated[Optional[Path], typer.Option("--json", help="Write the findings (JSON) here.")] = None,
    baseline: BaselineOpt = None,
    checks_dir: ChecksDirOpt = None,
) -> None:
    """Run the whole triage playbook against the latest run (even a failed one) and report findings."""
    from tui.core.checks.findings import counts
    from tui.core.checks.report import lineage_of, skipped, write_reports
    from tui.core.checks.triage import TriageError, run_triage

    def on_step(index: int, total: int, result) -> None:
        diag(f"[{index}/{total}] {result.step:<12} {result.status.upper():<5} {result.seconds:6.2f}s  {result.verdict}")

    try:
        session, playbook = run_triage(_workspace(ctx), baseline_run_id=baseline, checks_dirs=tuple(checks_dir or ()),
                                       on_step=on_step)
    except TriageError as error:
        fail(str(error))
    write_reports(session, playbook, report, json_path, lineage_of(_workspace(ctx)))
    tally = counts(session.findings())
    written = ", ".join(str(p) for p in (report, json_path) if p) or "nothing written (use --report / --json)"
    not_applicable = f", {len(skipped(session))} skipped (not applicable)" if skipped(session) else ""
    typer.echo(f"triage: {tally['fail']} fail, {tally['warn']} warn, {tally['pass']} pass{not_applicable}; {written}")


@app.command()
def check(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print the findings as JSON on stdout.")] = False,
    family: Annotated[Optional[list[str]], typer.Option("--family", help="Only these check families (repeatable).")] = None,
    baseline: BaselineOpt = None,
    checks_dir: ChecksDirOpt = None,
) -> None:
    """Run the data checks as a CI guardrail: exit 0 when all pass, 1 on any fail, 2 when they cannot run."""
    from tui.core.checks.causes import build_causes
    from tui.core.checks.findings import FAIL, PASS, by_severity, counts
    from tui.core.checks.report import lineage_of
    from tui.core.checks.triage import TriageError, run_checks

    try:
        findings, checked = run_checks(_workspace(ctx), families=family, baseline_run_id=baseline,
                                 checks_dirs=tuple(checks_dir or ()))
    except (TriageError, ValueError) as error:
        fail(str(error).splitlines()[0])
    tally = counts(findings)
    if as_json:
        causes = [c.to_dict() for c in build_causes(findings, lineage_of(_workspace(ctx)))]
        typer.echo(json.dumps({"causes": causes, "findings": [f.to_dict() for f in by_severity(findings)], "counts": tally,
                               "skipped": [{"check": k, "reason": v} for k, v in checked.skipped.items()]},
                              indent=2, default=str))
    else:
        for f in by_severity(findings):
            if f.status != PASS:
                where = f.object + (f".{f.column}" if f.column else "")
                typer.echo(f"{f.status.upper():<5} {f.check:<28} {where:<48} {f.summary}")
        not_applicable = f", {len(checked.skipped)} skipped (not applicable)" if checked.skipped else ""
        typer.echo(f"check: {tally['fail']} fail, {tally['warn']} warn, {tally['pass']} pass{not_applicable}")
    raise typer.Exit(EXIT_FAILED if tally[FAIL] else EXIT_OK)
