"""`pipeline-tui fixtures ...`: generate raw feeds."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

app = typer.Typer(help="Generate synthetic raw feeds (companies, employees, plans, enrollments, claims).")


@app.command()
def generate(
    out: Annotated[Path, typer.Option("--out", help="Raw feeds folder to write (plain dbt reads dbt/raw).")],
    scenario: Annotated[str, typer.Option(help="baseline, or incident (baseline + a defective partner feed).")] = "baseline",
    size: Annotated[Optional[str], typer.Option(help="Size preset from fixtures/sizes.yaml: test, demo, large.")] = None,
    companies: Annotated[Optional[int], typer.Option(help="Number of companies.")] = None,
    employees: Annotated[Optional[int], typer.Option(help="Number of employees.")] = None,
    claims_per_day: Annotated[Optional[int], typer.Option(help="Average new claims per day.")] = None,
    days: Annotated[Optional[int], typer.Option(help="Number of daily claims files.")] = None,
    seed: Annotated[Optional[int], typer.Option(help="Random seed (same seed, same bytes).")] = None,
    start_date: Annotated[Optional[str], typer.Option(help="First claims day, YYYY-MM-DD (default: the scenario's).")] = None,
    end_date: Annotated[Optional[str], typer.Option(
        help="Last file's day, YYYY-MM-DD or 'today' (UTC); counts the start back and extracts the feeds "
             "as of then, so data ending today passes `dbt source freshness`.")] = None,
    malformed: Annotated[bool, typer.Option(help="Add malformed lines (broken JSON, wrong column count...).")] = False,
    next_day: Annotated[bool, typer.Option("--next-day", help="Only append the next clean day to OUT.")] = False,
) -> None:
    """Write a scenario's raw feeds: companies.csv, employees.csv, plans.json, enrollments.csv, claims/*.jsonl."""
    from tui.core import generator

    try:
        if next_day:
            summary = generator.add_next_day(out)
        else:
            summary = generator.generate(
                out, scenario, seed=seed, size=size, companies=companies, employees=employees,
                claims_per_day=claims_per_day, days=days, start_date=start_date, end_date=end_date,
                malformed=malformed,
            )
    except (generator.ScenarioError, ValueError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    rows = ", ".join(f"{feed} {count:,}" for feed, count in summary.rows.items())
    typer.echo(f"{summary.scenario} (seed {summary.seed}): {len(summary.files)} file(s), "
               f"{summary.total_rows:,} rows ({rows}) in {summary.seconds:.1f} s -> {summary.out_dir}")


@app.command()
def incident(
    ctx: typer.Context,
    out: Annotated[Optional[Path], typer.Option("--out", help="Write a copy of the raw folder with the incident here instead.")] = None,
) -> None:
    """Add the incident (a defective partner feed, duplicated enrollments) to the workspace's raw feeds
    as the next delivery; then `b` (build) and `i` (triage) in the cockpit."""
    from tui.core import generator

    workspace = ctx.obj
    raw = getattr(workspace, "raw_dir", None)
    if raw is None:
        typer.echo("error: no workspace resolved: run through the pipeline-tui command", err=True)
        raise typer.Exit(2)
    try:
        summary = generator.add_incident(raw, out)
    except (generator.ScenarioError, ValueError, OSError) as error:
        typer.echo(f"error: {error}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"incident added: {', '.join(summary.files)} ({summary.rows.get('claims', 0):,} partner claims) "
               f"-> {summary.out_dir}; ground truth in {summary.out_dir / 'ground_truth.json'}")
