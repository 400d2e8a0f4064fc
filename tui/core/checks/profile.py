"""Fast profiles of a table: one aggregate query over every column, split by delivery.

`profile_table(runner, spec, config)` returns a `TableProfile`: row count, rows per delivered file,
and per group ("newest" file against "earlier" ones, or "all" when the table has no delivery column)
per column: null count and rate, approximate distinct count, min / max (numbers, dates), mean and
quantiles (numbers), top values with shares (categorical columns), how many text values read as
integers, numbers or timestamps (to catch values that fail their intended type), and dates in the future or decades back. Personal columns keep
counts only. Profiles round-trip through JSON so history can keep them as baselines.
"""

from __future__ import annotations

import datetime as dt
import decimal
import fnmatch
import time
from dataclasses import asdict, dataclass, field
from pathlib import PurePath
from typing import Any

from tui.core.checks.config import ChecksConfig
from tui.core.checks.sql import QueryRunner, literal, quote
from tui.core.checks.targets import BOOLEAN, NUMERIC, OTHER, TEMPORAL, TEXT, ColumnSpec, TableSpec, is_integer_type

NEWEST, EARLIER, ALL = "newest", "earlier", "all"


@dataclass(frozen=True)
class TableProfile:
    object: str
    rows: int
    groups: dict[str, dict[str, Any]]  # label -> {"rows": n, "columns": {name: stats}}
    kinds: dict[str, str] = field(default_factory=dict)  # column -> kind
    deliveries: tuple[tuple[str, int], ...] = ()  # (file, rows), oldest first
    newest: str | None = None
    seconds: float = 0.0
    intended: dict[str, str] = field(default_factory=dict)  # text column -> declared integer/number/timestamp

    def column(self, group: str, name: str) -> dict[str, Any] | None:
        return self.groups.get(group, {}).get("columns", {}).get(name)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["deliveries"] = [list(d) for d in self.deliveries]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TableProfile:
        return cls(data["object"], int(data["rows"]), data.get("groups", {}), data.get("kinds", {}),
                   tuple((f, int(n)) for f, n in data.get("deliveries", [])), data.get("newest"),
                   float(data.get("seconds", 0.0)), data.get("intended", {}))


def profile_table(runner: QueryRunner, spec: TableSpec, config: ChecksConfig) -> TableProfile:
    started = time.perf_counter()
    deliveries, newest = _deliveries(runner, spec)
    earlier = sorted(n for _, n in deliveries[:-1])
    # Split only tables with several deliveries of real size (not one summary row per file).
    split = newest is not None and len(deliveries) > 1 and earlier[len(earlier) // 2] >= int(config.get("drift.volume.min_rows", 20))
    rows = runner.rows(profile_sql(spec, config, newest if split else None), f"profile {spec.object}")
    quantiles = config.get("profile.quantiles", [0.05, 0.25, 0.5, 0.75, 0.95])
    groups = {row["__group"]: _group_stats(row, spec, quantiles, config) for row in rows}
    total = sum(g["rows"] for g in groups.values())
    kinds = {c.name: c.kind for c in spec.columns}
    intended = {c.name: t for c in spec.columns if (t := intended_name(c))}
    return TableProfile(spec.object, total, groups, kinds, tuple(deliveries), newest,
                        time.perf_counter() - started, intended)


def merged(profile: TableProfile) -> dict[str, Any]:
    """The whole table as one group: counts add up, shares and means are weighted; quantiles are
    taken from the larger group (an approximation, good enough as a reference)."""
    groups = list(profile.groups.values())
    if len(groups) == 1:
        return groups[0]
    big = max(groups, key=lambda g: g["rows"])
    rows = sum(g["rows"] for g in groups)
    columns = {name: _merge_column([g["columns"].get(name, {}) for g in groups], [g["rows"] for g in groups], big["columns"].get(name, {}))
               for name in big["columns"]}
    return {"rows": rows, "columns": columns}


def _merge_column(parts: list[dict[str, Any]], sizes: list[int], big: dict[str, Any]) -> dict[str, Any]:
    out = dict(big)
    rows = sum(sizes)
    summed = ("nulls", "future", "ancient", "int_like", "num_like", "time_like", "true", "whole", "zero_padded")
    for key in [k for k in big if k in summed or k.startswith("pair:")]:
        out[key] = sum(int(p.get(key) or 0) for p in parts)
    out["null_rate"] = out.get("nulls", 0) / rows if rows else 0.0
    nonnull = [n - int(p.get("nulls") or 0) for p, n in zip(parts, sizes)]
    if "mean" in big and sum(nonnull):
        out["mean"] = sum((p.get("mean") or 0) * w for p, w in zip(parts, nonnull)) / sum(nonnull)
    for key, pick in (("min", min), ("max", max)):
        values = [p[key] for p in parts if p.get(key) is not None]
        if values and key in big:
            out[key] = pick(values)
    if "top" in big and sum(nonnull):
        shares: dict[Any, float] = {}
        for p, w in zip(parts, nonnull):
            for value, share in p.get("top", []):
                shares[value] = shares.get(value, 0.0) + share * w / sum(nonnull)
        out["top"] = [[v, s] for v, s in sorted(shares.items(), key=lambda kv: -kv[1])]
    return out


def intended_name(column: ColumnSpec) -> str | None:
    """For a text column with a declared number or date type: integer, number or timestamp."""
    if column.kind not in (TEXT, OTHER):
        return None
    if column.declared_kind == NUMERIC:
        return "integer" if is_integer_type(column.declared_type) else "number"
    return "timestamp" if column.declared_kind == TEMPORAL else None


def _deliveries(runner: QueryRunner, spec: TableSpec) -> tuple[list[tuple[str, int]], str | None]:
    if not spec.delivery_column:
        return [], None
    column = quote(spec.delivery_column)
    # Raw feeds are ordered by file name (dated names): reading their loaded_at would parse every line.
    by_time = spec.loaded_at and spec.column(spec.loaded_at) and spec.layer != "sources"
    latest = f"max({quote(spec.loaded_at)})" if by_time else "NULL"
    found = runner.rows(f"SELECT {column} AS file, count(*) AS n, {latest} AS latest FROM {spec.relation} "
                        f"GROUP BY 1 ORDER BY latest NULLS FIRST, file NULLS FIRST", f"deliveries {spec.object}")
    found = [r for r in found if r["file"] is not None]
    if not found:
        return [], None
    return [(str(r["file"]), int(r["n"])) for r in found], str(found[-1]["file"])


def profile_sql(spec: TableSpec, config: ChecksConfig, newest: str | None) -> str:
    """One pass: every column's aggregates, grouped by delivery when `newest` is given."""
    group = (f"CASE WHEN {quote(spec.delivery_column)} = {literal(newest)} THEN '{NEWEST}' ELSE '{EARLIER}' END"
             if newest is not None else f"'{ALL}'")
    select = [f"{group} AS __group", "count(*) AS __rows"]
    for index, column in enumerate(spec.columns):
        select += [f"{expr} AS {quote(f'c{index}_{metric}')}" for metric, expr in column_metrics(column, config, spec.delivery_column)]
        select += [f"{expr} AS {quote(f'c{index}_{metric}')}" for metric, expr in pair_metrics(spec, index, config)]
    tail = " GROUP BY 1" if newest is not None else ""
    return f"SELECT {', '.join(select)} FROM {spec.relation}{tail}"


def column_metrics(column: ColumnSpec, config: ChecksConfig, delivery: str | None = None) -> list[tuple[str, str]]:
    c = quote(column.name)
    metrics = [("nonnull", f"count({c})")]
    if column.personal and column.declared_kind is None:
        return metrics  # personal values: how many are missing is all we keep
    if column.kind == OTHER:
        if not infer_types(column, config):
            return metrics
        return metrics + _conformance(column, f"CAST({c} AS VARCHAR)") + _shape(column, f"trim(CAST({c} AS VARCHAR), '\" ')", config)
    metrics.append(("distinct", f"approx_count_distinct({c})"))
    if column.kind == NUMERIC and not column.personal:
        quantiles = ", ".join(repr(float(q)) for q in config.get("profile.quantiles", [0.5]))
        metrics += [("min", f"min({c})"), ("max", f"max({c})"), ("mean", f"avg(CAST({c} AS DOUBLE))"),
                    ("quantiles", f"approx_quantile({c}, [{quantiles}])"),
                    ("whole", f"count_if(CAST({c} AS DOUBLE) = trunc(CAST({c} AS DOUBLE)))")]
    elif column.kind == TEMPORAL:
        metrics += _temporal(column, config) + _lags(column, delivery, config)
    elif column.kind == BOOLEAN:
        metrics.append(("true", f"count_if({c})"))
    elif infer_types(column, config) and column.name != delivery:
        metrics += _conformance(column, c) + _shape(column, c, config)
    if column.categorical and column.kind != BOOLEAN:
        metrics.append(("top", f"histogram({c})"))
    return metrics


def infer_types(column: ColumnSpec, config: ChecksConfig) -> bool:
    """Type conformance of text: for columns declared as numbers or dates, and for every text column
    of the configured layers (raw feeds deliver everything as text; models' text is meant as text)."""
    return column.declared_kind in (NUMERIC, TEMPORAL) or column.layer in config.get("profile.type_inference_layers", ["sources"])


def _temporal(column: ColumnSpec, config: ChecksConfig) -> list[tuple[str, str]]:
    c = quote(column.name)
    future = int(config.get("drift.range.future_days", 2))
    ancient = int(config.get("drift.range.ancient_years", 50))
    metrics = [("future", f"count_if(CAST({c} AS TIMESTAMP) > now()::TIMESTAMP + INTERVAL {future} DAY)"),
               ("ancient", f"count_if(CAST({c} AS TIMESTAMP) < now()::TIMESTAMP - INTERVAL {ancient} YEAR)")]
    if not column.personal:
        metrics = [("min", f"min({c})"), ("max", f"max({c})")] + metrics
    return metrics


def _lags(column: ColumnSpec, delivery: str | None, config: ChecksConfig) -> list[tuple[str, str]]:
    """Days from the delivery's own date (in its file name) to the column's values: min, median, max."""
    skip = config.get("drift.dates.skip_columns", [])
    if column.personal or not delivery or any(fnmatch.fnmatch(column.name.lower(), p) for p in skip):
        return []
    day = f"try_strptime(regexp_extract(CAST({quote(delivery)} AS VARCHAR), '[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}'), '%Y-%m-%d')::DATE"
    lag = f"date_diff('day', {day}, CAST({quote(column.name)} AS DATE))"
    return [("lag_min", f"min({lag})"), ("lag_median", f"median({lag})"), ("lag_max", f"max({lag})")]


def pair_metrics(spec: TableSpec, index: int, config: ChecksConfig) -> list[tuple[str, str]]:
    """For a date column and each later one of the same row: rows with both, and rows where the
    later column's value comes before this one's (the share of flipped order)."""
    dated = [c for c in spec.columns if c.kind == TEMPORAL and not c.personal][: int(config.get("drift.dates.max_columns", 6))]
    column = spec.columns[index]
    if column not in dated:
        return []
    a = f"CAST({quote(column.name)} AS TIMESTAMP)"
    metrics = []
    for other in dated[dated.index(column) + 1:]:
        b = f"CAST({quote(other.name)} AS TIMESTAMP)"
        metrics += [(f"pair:{other.name}:n", f"count_if({a} IS NOT NULL AND {b} IS NOT NULL)"),
                    (f"pair:{other.name}:before", f"count_if({b} < {a})")]
    return metrics


INT_PATTERN = r"[+-]?(0|[1-9][0-9]*)"
NUM_PATTERN = r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
TIME_PATTERN = r"[0-9]{4}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?(Z|[+-][0-9]{2}(:?[0-9]{2})?)?"


def _conformance(column: ColumnSpec, text: str) -> list[tuple[str, str]]:
    """Text columns: how many values read as a canonical integer, a number, a timestamp (by their
    form, with regular expressions: several times cheaper than casts). The intended type is the
    declared one, or else the one (nearly) every reference value had; drift compares."""
    if column.personal and column.declared_kind is None:
        return []
    value = f"trim({text}, '\" ')" if column.kind == OTHER else text  # JSON values keep their quotes
    return [(name, f"count_if(regexp_full_match({value}, '{pattern}'))")
            for name, pattern in (("int_like", INT_PATTERN), ("num_like", NUM_PATTERN), ("time_like", TIME_PATTERN))]


def _shape(column: ColumnSpec, c: str, config: ChecksConfig) -> list[tuple[str, str]]:
    """Id-like text: how many values carry leading zeros, and their usual length and number of zeros
    (a shape such as 0000NNNN is shown, never a value)."""
    if column.personal or not any(fnmatch.fnmatch(column.name.lower(), p) for p in config.get("profile.shape_columns", [])):
        return []
    padded = f"regexp_full_match({c}, '0[0-9]+')"
    return [("zero_padded", f"count_if({padded})"),
            ("padded_length", f"median(length({c})) FILTER (WHERE {padded})"),
            ("padded_zeros", f"median(length({c}) - length(ltrim({c}, '0'))) FILTER (WHERE {padded})")]


def _group_stats(row: dict[str, Any], spec: TableSpec, quantiles: list[float], config: ChecksConfig) -> dict[str, Any]:
    n = int(row["__rows"])
    columns = {}
    for index, column in enumerate(spec.columns):
        prefix = f"c{index}_"
        raw = {key[len(prefix):]: value for key, value in row.items() if key.startswith(prefix)}
        columns[column.name] = _column_stats(raw, n, quantiles, int(config.get("profile.max_categories", 50)))
    return {"rows": n, "columns": columns}


def _column_stats(raw: dict[str, Any], n: int, quantiles: list[float], max_categories: int) -> dict[str, Any]:
    nonnull = int(raw.pop("nonnull") or 0)
    stats: dict[str, Any] = {"nulls": n - nonnull, "null_rate": (n - nonnull) / n if n else 0.0}
    for name, value in raw.items():
        if name == "quantiles":
            for q, v in zip(quantiles, value or []):
                stats[f"q{int(round(q * 100)):02d}"] = _plain(v)
        elif name == "top":
            stats["top"] = _top(value or {}, nonnull, max_categories)
        else:
            stats[name] = _plain(value)
    return stats


def _top(histogram: dict, nonnull: int, limit: int) -> list[list[Any]]:
    ranked = sorted(histogram.items(), key=lambda kv: (-kv[1], str(kv[0])))[:limit]
    return [[_plain(value), count / nonnull if nonnull else 0.0] for value, count in ranked]


def _plain(value: Any) -> Any:
    """JSON-friendly scalars: dates as ISO strings, decimals as floats."""
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    return str(value)


def file_label(path: str | None) -> str | None:
    """A delivered file's name without its folders (reports stay short and portable)."""
    return PurePath(path).name if path else None
