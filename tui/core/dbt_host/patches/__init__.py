"""Changes to dbt internals for a long-lived process (filled in by the next commits)."""
