"""pipeline-tui: a terminal cockpit for dbt pipelines."""

__version__ = "0.1.0"
