"""`pipeline-tui fixtures ...`: generate raw feeds."""

import typer

app = typer.Typer(help="Generate synthetic raw feeds (companies, employees, plans, enrollments, claims).")
