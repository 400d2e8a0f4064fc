"""Drift: the newest delivery against earlier ones, and a table against its baseline profile.

Detects volume jumps and drops, null-rate jumps, new or vanished categories and share shifts,
numeric distributions that moved (median, mean, 95th percentile ratios), dates in the future or
decades back and values outside the historical range, negative numbers that never occurred, and
values that fail their declared type. Shifts in rates must also be statistically clear (a z-score),
so small feeds do not raise noise.
"""

from __future__ import annotations

import fnmatch
import math
import statistics
from dataclasses import dataclass, field
from typing import Any

from tui.core.checks.config import ChecksConfig
from tui.core.checks.findings import FAIL, PASS, WARN, Finding, status_for
from tui.core.checks.profile import ALL, EARLIER, NEWEST, TableProfile, file_label, merged
from tui.core.checks.targets import NUMERIC, TEMPORAL

CHECK = "drift"


@dataclass(frozen=True)
class Comparison:
    """Two groups of column stats to compare, and how to say which."""
    object: str
    current: dict[str, Any]  # {"rows": n, "columns": {...}}
    reference: dict[str, Any]
    label: str  # e.g. "newest delivery (x.jsonl) vs 20 earlier deliveries"
    kinds: dict[str, str]
    declared: dict[str, str] = field(default_factory=dict)  # column -> integer / number / timestamp
    event_times: frozenset[str] = frozenset()  # columns known as event times (a source's loaded_at_field)


def comparisons(profile: TableProfile, baseline: TableProfile | None, event_times: frozenset[str] = frozenset()) -> list[Comparison]:
    found = []
    if NEWEST in profile.groups and EARLIER in profile.groups:
        found.append(Comparison(profile.object, profile.groups[NEWEST], profile.groups[EARLIER],
                                f"newest delivery ({file_label(profile.newest)}) vs "
                                f"{len(profile.deliveries) - 1} earlier deliveries", profile.kinds, profile.intended, event_times))
    if baseline is not None:
        current_label = NEWEST if NEWEST in profile.groups else ALL
        if current_label in profile.groups:
            found.append(Comparison(profile.object, profile.groups[current_label], merged(baseline),
                                    f"{_describe(profile, current_label)} vs baseline table", profile.kinds, profile.intended, event_times))
    return found


def _describe(profile: TableProfile, group: str) -> str:
    return f"delivery {file_label(profile.newest)}" if group == NEWEST else "table"


def drift_findings(profiles: list[TableProfile], baselines: dict[str, TableProfile],
                   config: ChecksConfig, event_times: dict[str, str] | None = None) -> list[Finding]:
    """`event_times`: object -> its loaded_at column (future values there are always a defect)."""
    findings: list[Finding] = []
    for profile in profiles:
        baseline = baselines.get(profile.object)
        found = volume_findings(profile, baseline, config)
        known = frozenset([(event_times or {}).get(profile.object)]) - {None}
        for comparison in comparisons(profile, baseline, known):
            found += compare(comparison, config)
        found = dedupe(found)
        if not any(f.status != PASS for f in found):
            compared = len(comparisons(profile, baseline))
            summary = (f"no drift beyond thresholds in {len(profile.kinds)} columns ({compared} comparisons)"
                       if compared else "profiled; nothing to compare against yet (single delivery, no baseline)")
            found = [Finding(CHECK, PASS, profile.object, None, summary, {"rows": profile.rows})]
        findings += found
    return findings


def dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per (check, object, column): the worst."""
    best: dict[tuple, Finding] = {}
    for finding in findings:
        key = (finding.check, finding.object, finding.column)
        if key not in best or finding.rank > best[key].rank:
            best[key] = finding
    return [f for f in best.values() if f.status != PASS]


def compare(comparison: Comparison, config: ChecksConfig) -> list[Finding]:
    found = []
    for name, current in comparison.current.get("columns", {}).items():
        reference = comparison.reference.get("columns", {}).get(name)
        if reference is None:
            continue
        args = (comparison, name, current, reference, config)
        found += [f for f in (null_rate(*args), categories(*args), numeric_shift(*args), out_of_range(*args),
                              type_conformance(*args), date_lag(*args), date_order(*args)) if f is not None]
    return found


def _rows(group: dict[str, Any]) -> int:
    return int(group.get("rows") or 0)


def _z(p1: float, p0: float, n1: int, n0: int) -> float:
    """How many standard errors p1 is above p0 (p0 floored so a zero rate still has a spread)."""
    floor = 0.5 / max(n0, 1)
    p = min(max(p0, floor), 1 - floor)
    return (p1 - p0) / math.sqrt(p * (1 - p) / max(n1, 1))


def null_rate(c: Comparison, name: str, cur: dict, ref: dict, config: ChecksConfig) -> Finding | None:
    p1, p0 = cur.get("null_rate") or 0.0, ref.get("null_rate") or 0.0
    n1, n0 = _rows(c.current), _rows(c.reference)
    if cur.get("nulls", 0) < config.get("drift.null_rate.min_rows", 3) or _z(p1, p0, n1, n0) < config.get("drift.null_rate.min_z", 4):
        return None
    status = status_for((p1 - p0) * 100, config.get("drift.null_rate.warn_pp"), config.get("drift.null_rate.fail_pp"))
    if status == PASS and p0 == 0:
        status = WARN  # nulls in a column that never had any, even if diluted in a large table
    if status == PASS:
        return None
    return Finding(f"{CHECK}.null_rate", status, c.object, name,
                   f"null rate of {name} rose from {p0:.1%} to {p1:.1%} ({c.label})",
                   {"compared": c.label, "null_rate": p1, "reference_null_rate": p0, "nulls": cur.get("nulls"),
                    "rows": n1, "reference_rows": n0})


def categories(c: Comparison, name: str, cur: dict, ref: dict, config: ChecksConfig) -> Finding | None:
    if "top" not in cur or "top" not in ref:
        return None
    now, before = dict(map(tuple, cur["top"])), dict(map(tuple, ref["top"]))
    n1, n0 = _rows(c.current) - cur.get("nulls", 0), _rows(c.reference) - ref.get("nulls", 0)
    complete = len(before) < config.get("profile.max_categories", 50)
    new = sorted(str(v) for v in now if v not in before) if complete else []
    vanished = sorted(str(v) for v, s in before.items() if v not in now and s >= config.get("drift.categories.vanished_min_share", 0.02) and n1 * s >= 5)
    shifts = {str(v): (now.get(v, 0.0), s) for v, s in before.items()
              if abs(now.get(v, 0.0) - s) * 100 >= config.get("drift.categories.warn_share_pp", 10)
              and abs(_z(now.get(v, 0.0), s, n1, n0)) >= config.get("drift.categories.min_z", 4)}
    if not (new or vanished or shifts):
        return None
    parts = ([f"new values {', '.join(new[:5])}"] if new else []) + \
            ([f"vanished {', '.join(vanished[:5])}"] if vanished else []) + \
            [f"{v} {a:.0%} (was {b:.0%})" for v, (a, b) in list(shifts.items())[:3]]
    return Finding(f"{CHECK}.categories", WARN, c.object, name, f"categories of {name} changed: {'; '.join(parts)} ({c.label})",
                   {"compared": c.label, "new": new, "vanished": vanished,
                    "shifts": {v: {"share": a, "reference_share": b} for v, (a, b) in shifts.items()}})


def is_identifier(name: str, config: ChecksConfig) -> bool:
    """Ids and line numbers: numbers whose distribution means nothing."""
    return any(fnmatch.fnmatch(name.lower(), p) for p in config.get("drift.numeric.skip_columns", []))


def numeric_shift(c: Comparison, name: str, cur: dict, ref: dict, config: ChecksConfig) -> Finding | None:
    if c.kinds.get(name) != NUMERIC or _rows(c.current) < config.get("drift.volume.min_rows", 20) or is_identifier(name, config):
        return None
    worst: tuple[float, str, float, float] | None = None
    for stat in config.get("drift.numeric.stats", ["q50", "mean", "q95"]):
        now, before = cur.get(stat), ref.get(stat)
        if not isinstance(now, (int, float)) or not isinstance(before, (int, float)) or before <= 0 or now <= 0:
            continue
        factor = max(now / before, before / now)
        if worst is None or factor > worst[0]:
            worst = (factor, stat, now, before)
    if worst is None:
        return None
    factor, stat, now, before = worst
    status = status_for(factor, config.get("drift.numeric.warn_ratio"), config.get("drift.numeric.fail_ratio"))
    if status == PASS:
        return None
    direction = "rose" if now > before else "fell"
    return Finding(f"{CHECK}.distribution", status, c.object, name,
                   f"{_stat_name(stat)} of {name} {direction} {factor:.1f}x, {before:,.4g} -> {now:,.4g} ({c.label})",
                   {"compared": c.label, "statistic": stat, "value": now, "reference": before, "factor": factor,
                    **{s: cur.get(s) for s in ("q50", "mean", "q95")},
                    **{f"reference_{s}": ref.get(s) for s in ("q50", "mean", "q95")},
                    "whole_share": _share(cur.get("whole"), c.current, cur), "reference_whole_share": _share(ref.get("whole"), c.reference, ref)})


def _share(count: Any, group: dict, stats: dict) -> float | None:
    """`count` as a share of the column's non-null values."""
    nonnull = _rows(group) - int(stats.get("nulls") or 0)
    return None if count is None or nonnull <= 0 else int(count) / nonnull


def _stat_name(stat: str) -> str:
    return {"q50": "median", "mean": "mean"}.get(stat, f"{stat[1:]}th percentile" if stat.startswith("q") else stat)


def out_of_range(c: Comparison, name: str, cur: dict, ref: dict, config: ChecksConfig) -> Finding | None:
    kind, n1 = c.kinds.get(name), max(_rows(c.current), 1)
    if kind == TEMPORAL:
        future, ancient = int(cur.get("future") or 0), int(cur.get("ancient") or 0)
        ref_future, ref_ancient = int(ref.get("future") or 0), int(ref.get("ancient") or 0)
        if ref_future and not is_event_time(c, name, config):
            future = ref_future = 0  # planned dates (hire, coverage end) were already in the future
        odd, before = future + ancient, ref_future + ref_ancient
        if odd and odd / n1 > before / max(_rows(c.reference), 1):
            status = FAIL if odd / n1 >= 0.01 else WARN
            return Finding(f"{CHECK}.range", status, c.object, name,
                           f"{odd:,} values of {name} are in the future or decades back ({c.label})",
                           {"compared": c.label, "future": future, "ancient": ancient,
                            "reference_future": ref.get("future"), "min": cur.get("min"), "max": cur.get("max")})
        return _outside_dates(c, name, cur, ref, config)
    if kind == NUMERIC and isinstance(cur.get("min"), (int, float)) and isinstance(ref.get("min"), (int, float)):
        if cur["min"] < 0 <= ref["min"]:
            return Finding(f"{CHECK}.range", WARN, c.object, name,
                           f"negative values of {name} appeared (min {cur['min']:,.4g}; never below 0 before) ({c.label})",
                           {"compared": c.label, "min": cur["min"], "reference_min": ref["min"]})
    return None


def is_event_time(c: Comparison, name: str, config: ChecksConfig) -> bool:
    """A column that records when something happened (a load, an update, a service): never in the future."""
    return name in c.event_times or any(fnmatch.fnmatch(name.lower(), p) for p in config.get("drift.event_time_columns", []))


def _outside_dates(c: Comparison, name: str, cur: dict, ref: dict, config: ChecksConfig) -> Finding | None:
    import datetime as dt

    try:
        low, high = (dt.datetime.fromisoformat(str(ref[k])[:19]) for k in ("min", "max"))
        now_low, now_high = (dt.datetime.fromisoformat(str(cur[k])[:19]) for k in ("min", "max"))
    except (KeyError, TypeError, ValueError):
        return None
    margin = dt.timedelta(days=int(config.get("drift.range.outside_days", 400)))
    try:
        inside = now_low >= low - margin and now_high <= high + margin
    except OverflowError:  # 9999-12-31 style "open end" markers
        inside = now_low >= low and now_high <= high
    if inside:
        return None
    return Finding(f"{CHECK}.range", WARN, c.object, name,
                   f"{name} spans {cur['min']} .. {cur['max']}, far outside {ref['min']} .. {ref['max']} ({c.label})",
                   {"compared": c.label, "min": cur["min"], "max": cur["max"], "reference_min": ref["min"],
                    "reference_max": ref["max"]})


TYPE_LIKE = (("int_like", "integer"), ("num_like", "number"), ("time_like", "timestamp"))


def intended_type(ref: dict, nonnull: int, declared: str | None, min_share: float) -> tuple[str, str] | None:
    """The declared type, or else the strictest type nearly every reference value had."""
    if declared:
        wanted = {"integer": "int_like", "number": "num_like", "timestamp": "time_like"}.get(declared)
        return next(((m, n) for m, n in TYPE_LIKE if m == wanted), None)
    if nonnull <= 0:
        return None
    return next(((m, n) for m, n in TYPE_LIKE if int(ref.get(m) or 0) / nonnull >= min_share), None)


def type_conformance(c: Comparison, name: str, cur: dict, ref: dict, config: ChecksConfig) -> Finding | None:
    if "int_like" not in cur or "int_like" not in ref:
        return None
    n1 = _rows(c.current) - int(cur.get("nulls") or 0)
    n0 = _rows(c.reference) - int(ref.get("nulls") or 0)
    intended = intended_type(ref, n0, c.declared.get(name), config.get("drift.type.reference_share", 0.995))
    if intended is None or n1 <= 0:
        return None
    metric, type_name = intended
    share, before = int(cur.get(metric) or 0) / n1, int(ref.get(metric) or 0) / max(n0, 1)
    bad = n1 - int(cur.get(metric) or 0)
    if before - share < config.get("drift.type.fail_share", 0.0005) or bad < config.get("drift.null_rate.min_rows", 3):
        return None
    return Finding(f"{CHECK}.type", FAIL, c.object, name,
                   f"{bad:,} values of {name} ({1 - share:.1%}) are not a plain {type_name} as before ({c.label})",
                   {"compared": c.label, "intended_type": type_name, "nonconforming": bad, "share": 1 - share,
                    "reference_share": 1 - before, **_padding(cur, n1)})


def _padding(cur: dict, nonnull: int) -> dict[str, Any]:
    """Leading zeros as a shape (000NNN) and a share: never a value."""
    padded = int(cur.get("zero_padded") or 0)
    if not padded or cur.get("padded_length") is None:
        return {}
    length, zeros = int(round(float(cur["padded_length"]))), int(round(float(cur.get("padded_zeros") or 1)))
    return {"zero_padded": padded, "zero_padded_share": padded / max(nonnull, 1),
            "shape": "0" * zeros + "N" * max(length - zeros, 0)}


def volume_findings(profile: TableProfile, baseline: TableProfile | None, config: ChecksConfig) -> list[Finding]:
    found = []
    if len(profile.deliveries) > 1:
        newest_rows = profile.deliveries[-1][1]
        usual = statistics.median(n for _, n in profile.deliveries[:-1])
        found.append(_volume(profile.object, newest_rows, usual, f"newest delivery ({file_label(profile.newest)}) vs "
                             f"median of {len(profile.deliveries) - 1} earlier deliveries", config))
    if baseline is not None:
        found.append(_volume(profile.object, profile.rows, baseline.rows, "table vs baseline", config))
    return [f for f in found if f is not None]


def _volume(object: str, rows: int, usual: float, label: str, config: ChecksConfig) -> Finding | None:
    if usual < config.get("drift.volume.min_rows", 20) and rows < config.get("drift.volume.min_rows", 20):
        return None
    ratio = rows / usual if usual else math.inf
    status = status_for(ratio, config.get("drift.volume.warn_ratio"), config.get("drift.volume.fail_ratio"))
    if status == PASS and ratio <= config.get("drift.volume.drop_warn_ratio", 0.2):
        status = WARN
    if status == PASS:
        return None
    return Finding(f"{CHECK}.volume", status, object, None,
                   f"{rows:,} rows against a usual {usual:,.0f} ({ratio:.1f}x, {label})",
                   {"compared": label, "rows": rows, "usual": usual, "ratio": ratio})


def date_lag(c: Comparison, name: str, cur: dict, ref: dict, config: ChecksConfig) -> Finding | None:
    """Dates that sit a week, a month or a year away from where earlier deliveries put them."""
    now, before = cur.get("lag_median"), ref.get("lag_median")
    if not isinstance(now, (int, float)) or not isinstance(before, (int, float)):
        return None
    if _rows(c.current) - int(cur.get("nulls") or 0) < config.get("drift.dates.min_rows", 20):
        return None
    shift = float(now) - float(before)
    status = status_for(abs(shift), config.get("drift.dates.warn_days"), config.get("drift.dates.fail_days"))
    if status == PASS:
        return None
    return Finding(f"{CHECK}.dates", status, c.object, name,
                   f"{name} sits {abs(shift):,.0f} days {'later' if shift > 0 else 'earlier'} against the delivery's date "
                   f"than before (median lag {before:,.0f} -> {now:,.0f} days) ({c.label})",
                   {"compared": c.label, "lag_median": now, "reference_lag_median": before, "shift_days": shift,
                    "lag_min": cur.get("lag_min"), "lag_max": cur.get("lag_max"),
                    "reference_lag_min": ref.get("lag_min"), "reference_lag_max": ref.get("lag_max")})


def date_order(c: Comparison, name: str, cur: dict, ref: dict, config: ChecksConfig) -> Finding | None:
    """Two date columns of a row that kept their order (submitted after service) and now flip."""
    worst = None
    for key in (k for k in cur if k.startswith("pair:") and k.endswith(":n")):
        other = key[len("pair:"):-len(":n")]
        n1, n0 = int(cur.get(key) or 0), int(ref.get(key) or 0)
        b1, b0 = int(cur.get(f"pair:{other}:before") or 0), int(ref.get(f"pair:{other}:before") or 0)
        if n1 < config.get("drift.dates.min_rows", 20) or n0 <= 0:
            continue
        p1, p0 = b1 / n1, b0 / n0
        if p0 > config.get("drift.dates.usual_flip_share", 0.005) or _z(p1, p0, n1, n0) < config.get("drift.null_rate.min_z", 4):
            continue
        status = status_for(p1, config.get("drift.dates.flip_warn_share"), config.get("drift.dates.flip_fail_share"))
        if status != PASS and (worst is None or p1 > worst[0]):
            worst = (p1, p0, other, b1, status)
    if worst is None:
        return None
    p1, p0, other, flipped, status = worst
    return Finding(f"{CHECK}.date_order", status, c.object, name,
                   f"{other} comes before {name} in {flipped:,} rows ({p1:.1%}; was {p0:.1%}) ({c.label})",
                   {"compared": c.label, "other_column": other, "flipped": flipped, "share": p1, "reference_share": p0})
