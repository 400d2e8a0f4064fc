"""Everything that hosts dbt in-process: see the modules of this package (filled in by the next commits)."""
