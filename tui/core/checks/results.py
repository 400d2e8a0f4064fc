"""The triaged run's own results as findings, on the node's model and column:

- `results.test`: every test of the run that failed (or errored) is a fail, every warned test a warn;
- `results.model`: every model, seed or snapshot that errored is a fail, every skipped one a warn;
- `results.freshness`: every source past its `error_after` is a fail, past `warn_after` a warn, in
  the run itself or in the `source freshness` run that went with it (the newest one since the
  building run before it);
- `results.run`: a run that failed with no failed node (a compile error) is one fail.

Evidence keeps dbt's status, failures count and message, with quoted literals masked (a message
such as `Could not convert string '…'` may quote a data value).
"""

from __future__ import annotations

import re
from typing import Any

from tui.core.checks.context import CheckContext
from tui.core.checks.findings import FAIL, PASS, WARN, Finding
from tui.core.checks.refs import object_name

CHECK = "results"
BUILDING = ("build", "run", "seed", "snapshot")
FRESHNESS = ("source freshness", "freshness")
TEST_STATUS = {"fail": FAIL, "error": FAIL, "runtime error": FAIL, "warn": WARN}
NODE_STATUS = {"error": FAIL, "runtime error": FAIL, "skipped": WARN, "skip": WARN}
SOURCE_STATUS = {"error": FAIL, "runtime error": FAIL, "fail": FAIL, "warn": WARN}
MAX_MESSAGE = 300
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"|=\([^)]*\)")  # 'x', "x" and PostgreSQL's Key (col)=(x)
_SQL_EXCERPT = re.compile(r"\bLINE \d+:.*", re.S)  # the SQL quoted after an error may hold literals


def result_findings(ctx: CheckContext) -> list[Finding]:
    run = ctx.latest_run
    if ctx.history is None or run is None:
        ctx.skip(CHECK, "no run in the history: nothing to read results from")
        return []
    nodes = ctx.history.node_results(run.run_id)
    found = [f for f in (node_finding(ctx, n) for n in nodes) if f is not None]
    freshness = freshness_run(ctx.history, run)
    if freshness is not None:
        found += [f for f in (node_finding(ctx, n) for n in ctx.history.node_results(freshness.run_id)
                              if n.resource_type == "source") if f is not None]
    if run.status == "error" and not any(f.status == FAIL for f in found):
        found.append(Finding(f"{CHECK}.run", FAIL, "run", None, f"the {run.command} failed: {masked(run.error) or 'no message'}",
                             {"run_id": run.run_id, "status": run.status, "message": masked(run.error)}))
    if not found:
        found.append(Finding(f"{CHECK}.run", PASS, "run", None,
                             f"every node of the {run.command} succeeded ({len(nodes)} nodes)", {"run_id": run.run_id}))
    return found


def node_finding(ctx: CheckContext, node: Any) -> Finding | None:
    status = str(node.status or "").lower()
    if node.resource_type == "test":
        return _test(ctx, node, TEST_STATUS.get(status))
    if node.resource_type == "source":
        return _source(ctx, node, SOURCE_STATUS.get(status))
    level = NODE_STATUS.get(status)
    if level is None:
        return None
    what = "errored" if level == FAIL else "was skipped (a node it depends on failed)"
    message = masked(node.message)
    return Finding(f"{CHECK}.model", level, node.name, None,
                   f"{node.resource_type} {node.name} {what}" + (f": {message}" if message and level == FAIL else ""),
                   _evidence(node, status, message))


def _test(ctx: CheckContext, node: Any, level: str | None) -> Finding | None:
    if level is None:
        return None
    attached, column = ctx.project.tested(node.unique_id)
    test = next((t for t in ctx.project.tests_of(attached) if t.unique_id == node.unique_id), None) if attached else None
    kind = test.test_name if test else node.name
    target = object_name(ctx.project, attached) if attached else node.name
    status = str(node.status).lower()
    rows = f"{node.failures:,} failure{'s' if node.failures != 1 else ''}" if node.failures else "no failures count"
    verb = "could not run" if status in ("error", "runtime error") else {FAIL: "failed", WARN: "warned"}[level]
    where = f"{target}.{column}" if column else target
    evidence = {"test": kind, **_evidence(node, status, masked(node.message))}
    return Finding(f"{CHECK}.test", level, target, column, f"dbt test {kind} {verb} on {where}: {rows}", evidence)


def _source(ctx: CheckContext, node: Any, level: str | None) -> Finding | None:
    if level is None:
        return None
    raw = ctx.project.sources.get(node.unique_id) or {}
    target = object_name(ctx.project, node.unique_id) if raw else node.name
    field = raw.get("loaded_at_field")
    field = field if field and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", field) else None  # not an expression
    status = str(node.status).lower()
    past = "error_after" if status == "error" else "warn_after" if level == WARN else "freshness limits (could not be checked)"
    return Finding(f"{CHECK}.freshness", level, target, field, f"source freshness of {target} is past its {past}",
                   _evidence(node, status, masked(node.message)))


def _evidence(node: Any, status: str, message: str | None) -> dict[str, Any]:
    return {"node": node.name, "unique_id": node.unique_id, "status": status, "failures": node.failures,
            "message": message, "run_id": node.run_id}


def freshness_run(history: Any, run: Any) -> Any:
    """The newest `source freshness` run since the building run before `run` (teams check freshness
    right before they build), or None."""
    if run.command in FRESHNESS:
        return None  # the run's own nodes are its freshness results
    runs = history.recent_runs(50)
    earlier = [r for r in runs if r.command in BUILDING and r.started_at < run.started_at]
    since = earlier[0].started_at if earlier else float("-inf")
    until = run.finished_at or run.started_at
    return next((r for r in runs if r.command in FRESHNESS and since < r.started_at <= until), None)


def masked(message: str | None) -> str | None:
    """dbt's message on one line, quoted literals and SQL excerpts masked (they may hold data values),
    at most 300 characters."""
    if not message:
        return None
    text = " ".join(_QUOTED.sub("'…'", _SQL_EXCERPT.sub("LINE …", message)).split())
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE - 1] + "…"
