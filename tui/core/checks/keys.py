"""Keys and joins: duplicate keys on the "one" side of every relationship and on every declared
key or grain, duplicate keys inside one delivered file of a raw feed, records delivered twice under
new keys, and fan-out: a model whose grain now holds several rows per key (a join that multiplies
rows) is a fail. The grain is what the project declares (`tui.core.checks.grain`); a model that
declares none gets it inferred from the keys it carries from its ancestors, each alone or with one
of its DATE columns (a model by key and day). Facts (rows, distinct keys) are the next baseline.
"""

from __future__ import annotations

import fnmatch

from tui.core.checks.context import CheckContext
from tui.core.checks.findings import FAIL, PASS, WARN, Finding
from tui.core.checks.grain import Grain, declared_grains
from tui.core.checks.refs import ancestors, object_name, referenced_model
from tui.core.checks.sql import quote
from tui.core.checks.targets import TableSpec

CHECK = "keys"


def unique_keys(ctx: CheckContext) -> dict[str, set[str]]:
    """object -> columns declared unique: by a unique test, as the `to` side of a relationship, or as a
    one-column grain (primary key constraint, unique_key config, checks configuration)."""
    keys: dict[str, set[str]] = {}
    project = ctx.project
    for uid in list(project.nodes) + list(project.sources):
        for test in project.tests_of(uid):
            if test.test_name == "unique" and test.column:
                keys.setdefault(object_name(project, uid), set()).add(test.column)
            elif test.test_name == "relationships":
                target, field = referenced_model(str(test.kwargs.get("to"))), test.kwargs.get("field")
                if target and field:
                    keys.setdefault(target, set()).add(str(field))
        for grain in declared_grains(project, uid, object_name(project, uid), ctx.config):
            if len(grain.columns) == 1:
                keys.setdefault(object_name(project, uid), set()).add(grain.columns[0])
    return keys


def key_findings(ctx: CheckContext) -> list[Finding]:
    keys = unique_keys(ctx)
    findings: list[Finding] = []
    facts = ctx.facts.setdefault("keys", {})
    for spec in ctx.specs():
        ctx.check_cancelled()
        declared = {c for c in keys.get(spec.object, set()) if spec.column(c)}
        combined = [g for g in declared_grains(ctx.project, spec.unique_id, spec.object, ctx.config,
                                               [c.name for c in spec.columns]) if len(g.columns) > 1]
        if declared:
            findings += duplicate_keys(ctx, spec, sorted(declared))
        findings += [duplicate_combination(ctx, spec, grain) for grain in combined]
        if spec.layer == "sources":
            declared = set(inferred_source_keys(ctx, spec, keys))
            if spec.delivery_column:
                findings += duplicates_in_delivery(ctx, spec, sorted(declared))
        if declared and spec.layer in ("sources", "staging"):
            findings += duplicate_records(ctx, spec, declared, keys)
        carried = fan_out_candidates(ctx, spec, keys)
        # A declared grain is checked by the duplicates above; one made only of inherited keys (a join's
        # grain, claim x period) never repeats, but the join can still multiply the rows per key.
        joined = bool(combined) and all(set(g.columns) <= carried for g in combined)
        if carried and not declared and (not combined or joined):
            found, facts[spec.object] = fan_out(ctx, spec, sorted(carried))
            findings += found
    return findings


def duplicate_keys(ctx: CheckContext, spec: TableSpec, columns: list[str]) -> list[Finding]:
    found = []
    for column in columns:
        c = quote(column)
        row = ctx.runner.one(f"SELECT count(*) AS keys, coalesce(sum(n), 0) AS rows FROM (SELECT {c}, count(*) AS n "
                             f"FROM {spec.relation} WHERE {c} IS NOT NULL GROUP BY 1 HAVING count(*) > 1)",
                             f"duplicate {column} in {spec.object}")
        status = FAIL if row["keys"] else PASS
        summary = (f"{row['keys']:,} values of {column} appear more than once ({row['rows']:,} rows) although {column} is a key"
                   if row["keys"] else f"{column} is unique")
        found.append(Finding(f"{CHECK}.duplicates", status, spec.object, column, summary,
                             {"duplicated_keys": row["keys"], "rows_involved": row["rows"]}))
    return found


def duplicate_combination(ctx: CheckContext, spec: TableSpec, grain: Grain) -> Finding:
    """A declared grain of several columns (unique combination, primary key...) holding a repeat."""
    columns = ", ".join(quote(c) for c in grain.columns)
    row = ctx.runner.one(f"SELECT count(*) AS keys, coalesce(sum(n), 0) AS rows FROM (SELECT {columns}, count(*) AS n "
                         f"FROM {spec.relation} GROUP BY ALL HAVING count(*) > 1)", f"duplicate {grain.name} in {spec.object}")
    evidence = {"duplicated_keys": row["keys"], "rows_involved": row["rows"], "grain": list(grain.columns),
                "declared_by": grain.declared_by}
    if not row["keys"]:
        return Finding(f"{CHECK}.duplicates", PASS, spec.object, grain.name, f"one row per ({grain.name})", evidence)
    return Finding(f"{CHECK}.duplicates", FAIL, spec.object, grain.name,
                   f"{row['keys']:,} combinations of ({grain.name}) appear more than once ({row['rows']:,} rows) "
                   f"although they are the grain ({grain.declared_by})", evidence)


def inferred_source_keys(ctx: CheckContext, spec: TableSpec, keys: dict[str, set[str]]) -> list[str]:
    """A raw feed's key: a column of it declared unique by a model built straight from it (two hops
    at most, so a base view between the source and its staging model is allowed)."""
    near, frontier = set(), {spec.unique_id}
    for _ in range(2):
        frontier = {c for uid in frontier for c in ctx.project.child_map.get(uid, []) if not c.startswith("test.")}
        near |= frontier
    names = {c for uid in near for c in keys.get(object_name(ctx.project, uid), set())}
    return sorted(c.name for c in spec.columns if c.name in names)


def duplicates_in_delivery(ctx: CheckContext, spec: TableSpec, columns: list[str]) -> list[Finding]:
    """Re-deliveries across files are normal; the same key twice inside one file is not."""
    found = []
    f = quote(spec.delivery_column)
    for column in columns:
        c = quote(column)
        rows = ctx.runner.rows(f"SELECT {f} AS file, count(*) AS keys, sum(n) AS rows FROM (SELECT {f}, {c}, count(*) AS n "
                               f"FROM {spec.relation} WHERE {c} IS NOT NULL GROUP BY 1, 2 HAVING count(*) > 1) GROUP BY 1 ORDER BY 1",
                               f"duplicate {column} within a delivery of {spec.object}")
        if not rows:
            found.append(Finding(f"{CHECK}.delivery_duplicates", PASS, spec.object, column,
                                 f"no {column} appears twice within one delivered file", {}))
            continue
        total = sum(int(r["keys"]) for r in rows)
        files = {str(r["file"]): int(r["keys"]) for r in rows}
        found.append(Finding(f"{CHECK}.delivery_duplicates", FAIL, spec.object, column,
                             f"{total:,} values of {column} are sent more than once within the same file "
                             f"({len(files)} of the delivered files)", {"duplicated_keys": total, "files": files}))
    return found


def record_columns(ctx: CheckContext, spec: TableSpec, keys: set[str]) -> list[str]:
    ignored = [p.lower() for p in ctx.config.get("keys.ignore_column_patterns", [])]
    return [c.name for c in spec.columns if c.name not in keys and not c.name.startswith("_")
            and not any(p in c.name.lower() or fnmatch.fnmatch(c.name.lower(), p) for p in ignored)]


def duplicate_records(ctx: CheckContext, spec: TableSpec, keys: set[str], all_keys: dict[str, set[str]]) -> list[Finding]:
    """Rows identical in every business column under another key: a record delivered twice.
    (The same key twice is a duplicate key, counted elsewhere.)"""
    columns = record_columns(ctx, spec, keys)
    if len(columns) < 2:
        return []
    record = ", ".join(quote(c) for c in columns)
    keyed = ", ".join(quote(c) for c in sorted(keys))
    row = ctx.runner.one(f"SELECT count(*) AS rows, count(DISTINCT ({record})) AS records, "
                         f"count(DISTINCT ({keyed}, {record})) AS keyed_records FROM {spec.relation}",
                         f"records repeated under new keys in {spec.object}")
    extra = int(row["keyed_records"]) - int(row["records"])
    share = extra / row["rows"] if row["rows"] else 0.0
    ctx.facts.setdefault("duplicate_records", {})[spec.object] = {"rows": row["rows"], "repeated": extra}
    before = ctx.baseline.facts.get("duplicate_records", {}).get(spec.object)
    before_share = before["repeated"] / before["rows"] if before and before.get("rows") else None
    status = _repeat_status(ctx, share, before_share, extra)
    key = ", ".join(sorted(keys))
    summary = (f"{extra:,} rows ({share:.1%}) repeat another row in every column under a new {key}"
               if extra else f"no record repeated under a new {key}")
    column = _first_reference(ctx, spec, columns, all_keys)
    return [Finding(f"{CHECK}.duplicate_records", status, spec.object, column, summary,
                    {"rows": row["rows"], "distinct_records": row["records"], "repeated_rows": extra,
                     "share": share, "baseline_share": before_share, "key": key, "compared_columns": columns})]


def _repeat_status(ctx: CheckContext, share: float, before: float | None, extra: int) -> str:
    """Against the baseline: more repeated records than then fails past fail_share. Without one, any
    repeat is only a warning (a table with few columns can repeat records legitimately)."""
    if not extra:
        return PASS
    if before is None:
        return WARN
    if share - before > ctx.config.get("keys.duplicate_records.fail_share", 0.005):
        return FAIL
    return WARN if share > before else PASS


def _first_reference(ctx: CheckContext, spec: TableSpec, columns: list[str], all_keys: dict[str, set[str]]) -> str | None:
    """The column naming what was duplicated: one that references another table (a relationship
    test, else another object's key), else the first compared column."""
    related = {t.column for t in ctx.project.tests_of(spec.unique_id or "") if t.test_name == "relationships"}
    foreign = {c for name, cs in all_keys.items() if name != spec.object for c in cs}
    return next((c for c in columns if c in related), next((c for c in columns if c in foreign), columns[0] if columns else None))


def fan_out_candidates(ctx: CheckContext, spec: TableSpec, keys: dict[str, set[str]]) -> set[str]:
    if spec.layer == "sources" or not spec.unique_id:
        return set()
    names = {object_name(ctx.project, uid) for uid in ancestors(ctx.project, spec.unique_id)}
    inherited = {c for name in names for c in keys.get(name, set())}
    return {c.name for c in spec.columns if c.name in inherited}


def fan_out(ctx: CheckContext, spec: TableSpec, keys: list[str]) -> tuple[list[Finding], dict]:
    """Rows per key of the model's inferred grain: the inherited key (alone, or with a DATE column of
    the model) with the fewest rows per key now; fewer columns win a tie. Compared with the
    baseline's rows per key of the same grain."""
    rows, stats, day_counts = _key_stats(ctx, spec, keys)
    facts = {"rows": rows, "keys": stats}
    usable = {name: s for name, s in stats.items() if s["distinct"]}
    if not usable:
        return [], facts
    if min(s["nonnull"] / s["distinct"] for s in usable.values()) > 1.0 and ctx.config.get("keys.infer_day_grain", True):
        stats.update(_key_day_stats(ctx, spec, usable, day_counts))
        usable = {name: s for name, s in stats.items() if s["distinct"]}
    grain = min(usable, key=lambda n: (round(usable[n]["nonnull"] / usable[n]["distinct"], 9), n.count(","), n))
    return [_fan_out_finding(ctx, spec, grain, usable[grain], rows)], facts


def _key_stats(ctx: CheckContext, spec: TableSpec, keys: list[str]) -> tuple[int, dict, dict[str, int]]:
    days = _day_columns(spec, keys)
    select = ", ".join([f"count(DISTINCT {quote(c)}) AS {quote('d_' + c)}, count({quote(c)}) AS {quote('n_' + c)}" for c in keys]
                       + [f"count(DISTINCT {quote(d)}) AS {quote('days_' + d)}" for d in days])
    row = ctx.runner.one(f"SELECT count(*) AS rows, {select} FROM {spec.relation}", f"fan-out of {spec.object}")
    stats = {c: {"distinct": int(row[f"d_{c}"]), "nonnull": int(row[f"n_{c}"])} for c in keys}
    return int(row["rows"]), stats, {d: int(row[f"days_{d}"]) for d in days}


def _day_columns(spec: TableSpec, keys: list[str]) -> list[str]:
    return [c.name for c in spec.columns if c.actual_type.strip().upper() == "DATE" and c.name not in keys]


def _key_day_stats(ctx: CheckContext, spec: TableSpec, usable: dict, day_counts: dict[str, int]) -> dict:
    """Distinct (key, day) pairs, for the pairs that could hold fewer rows per key than the best key
    alone (a pair has at most distinct keys x distinct days values)."""
    best = min(s["nonnull"] / s["distinct"] for s in usable.values())
    pairs = [(k, d) for k, s in usable.items() for d, n in day_counts.items()
             if s["nonnull"] / max(1, min(s["nonnull"], s["distinct"] * n)) < best]
    if not pairs:
        return {}
    select = ", ".join(f"count(DISTINCT ({quote(k)}, {quote(d)})) FILTER (WHERE {quote(k)} IS NOT NULL) AS p{i}"
                       for i, (k, d) in enumerate(pairs))
    row = ctx.runner.one(f"SELECT {select} FROM {spec.relation}", f"fan-out of {spec.object} by key and day")
    return {f"{k}, {d}": {"distinct": int(row[f"p{i}"]), "nonnull": usable[k]["nonnull"]} for i, (k, d) in enumerate(pairs)}


def _fan_out_finding(ctx: CheckContext, spec: TableSpec, grain: str, stat: dict, rows: int) -> Finding:
    ratio = stat["nonnull"] / stat["distinct"]
    before = ctx.baseline.facts.get("keys", {}).get(spec.object, {}).get("keys", {}).get(grain)
    before_ratio = before["nonnull"] / before["distinct"] if before and before.get("distinct") else None
    status = _fan_out_status(ratio, before_ratio, ctx)
    key = grain.split(", ")[0]
    evidence = {"grain_key": grain, "grain_declared": False, "rows": rows, "distinct_keys": stat["distinct"],
                "rows_per_key": ratio, "baseline_rows_per_key": before_ratio}
    was = f"; baseline {before_ratio:.3f}" if before_ratio else ""
    if status == PASS and ratio <= 1.0:
        return Finding(f"{CHECK}.fan_out", PASS, spec.object, key, f"one row per {grain} ({ratio:.3f} rows per key)", evidence)
    if status == PASS:  # the key repeats by design (now and at the baseline): it is not the model's grain
        evidence["grain_key"] = None
        return Finding(f"{CHECK}.fan_out", PASS, spec.object, key,
                       f"no grain inferred: even {grain}, the least repeated key it carries, has {ratio:.3f} rows per key{was}",
                       {**evidence, "fewest_rows_per_key": grain})
    extra = stat["nonnull"] - stat["distinct"]
    return Finding(f"{CHECK}.fan_out", status, spec.object, key,
                   f"a join multiplies rows: {extra:,} extra rows, {ratio:.3f} rows per {grain}{was}", evidence)


def _fan_out_status(ratio: float, before: float | None, ctx: CheckContext) -> str:
    if ratio <= 1.0:
        return PASS
    if before is not None:
        if before <= 1.0:
            return FAIL  # one row per key at the baseline, several now: a join multiplies rows
        return WARN if ratio > before * ctx.config.get("keys.fan_out_growth_warn", 1.5) else PASS
    # No baseline: a model that keeps nearly one row per key and now has repeats looks like a fan-out.
    return WARN if ratio <= ctx.config.get("keys.fan_out_max_ratio_without_baseline", 1.1) else PASS
