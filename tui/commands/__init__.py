"""Typer command groups, one module per group, joined in `tui.cli`."""
