"""Estimated cost of a node or a run: execute seconds x a rate per hour. Always an estimate.

Default rate: USD 2.00 per hour, the on-demand price of the smallest Snowflake virtual warehouse
(X-Small = 1 credit per hour, 1 credit = USD 2.00 on Standard edition, AWS US East; Snowflake
pricing page and credit consumption table). A local DuckDB run costs nothing; the estimate says
what the same work would roughly cost on a small cloud warehouse, which is what makes a
regression visible in money. Override with the environment variable `PIPELINE_TUI_COST_PER_HOUR`
(or the CLI's `--cost-per-hour`). Everything that shows a cost labels it "est.".
"""

from __future__ import annotations

import os

DEFAULT_RATE_PER_HOUR = 2.00
RATE_ENV = "PIPELINE_TUI_COST_PER_HOUR"
LABEL = "est."


def rate_per_hour(override: float | None = None) -> float:
    """The configured rate (USD per hour): explicit value, then the environment, then the default."""
    if override is not None:
        return max(0.0, float(override))
    raw = os.environ.get(RATE_ENV, "").strip()
    try:
        return max(0.0, float(raw)) if raw else DEFAULT_RATE_PER_HOUR
    except ValueError:
        return DEFAULT_RATE_PER_HOUR


def estimate(execute_s: float | None, rate: float | None = None) -> float | None:
    """Estimated USD for `execute_s` seconds of warehouse time; None when the time is unknown."""
    if execute_s is None:
        return None
    return round(max(0.0, execute_s) * rate_per_hour(rate) / 3600.0, 8)


def format_cost(usd: float | None) -> str:
    """`est. $0.0012`; `est. -` when unknown."""
    if usd is None:
        return f"{LABEL} -"
    if usd >= 1:
        return f"{LABEL} ${usd:,.2f}"
    return f"{LABEL} ${usd:.4f}"
