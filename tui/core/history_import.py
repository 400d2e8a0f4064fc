"""Import a `run_results.json` written by the plain dbt CLI (or CI) into the run history.

Provides `import_run_results(store, path, rate=None) -> (RunRecord, node count)`. The run keeps
dbt's invocation id, so importing the same file twice replaces it instead of duplicating it.
Row counts are only known where dbt reported them (`rows_affected`, e.g. seeds).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from tui.core import costs
from tui.core.run_events import NodeFinished
from tui.core.history import HistoryStore, RunRecord

FAILED = {"error", "fail", "runtime error"}


class RunResultsError(Exception):
    """The file is not a dbt run_results.json (one line for the user)."""


def import_run_results(store: HistoryStore, path: Path | str, rate: float | None = None) -> tuple[RunRecord, int]:
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise RunResultsError(f"{path} does not exist: pass a dbt target/run_results.json") from None
    except (OSError, ValueError) as error:
        raise RunResultsError(f"{path} is not readable JSON ({error}): pass a dbt target/run_results.json") from None
    if not isinstance(data, dict) or "run-results" not in str(data.get("metadata", {}).get("dbt_schema_version")):
        raise RunResultsError(f"{path} is not a dbt run_results.json (no run-results schema in its metadata)")
    run_id = data["metadata"].get("invocation_id") or f"import-{path.stat().st_mtime_ns}"
    nodes = [_node(run_id, result, rate) for result in data.get("results", [])]
    run = _run(run_id, data, nodes)
    store.write_run(run, nodes)
    return run, len(nodes)


def _run(run_id: str, data: dict, nodes: list[NodeFinished]) -> RunRecord:
    meta, args = data["metadata"], data.get("args") or {}
    finished = _ts(meta.get("generated_at"))
    elapsed = data.get("elapsed_time")
    started = _ts(meta.get("invocation_started_at")) or (finished - elapsed if finished and elapsed else finished)
    select = args.get("select") or []
    selector = " ".join(select) if isinstance(select, list) else str(select)
    failed = [n for n in nodes if n.status in FAILED]
    costs_known = [n.est_cost_usd for n in nodes if n.est_cost_usd is not None]
    return RunRecord(
        run_id=run_id, command=str(args.get("which") or "unknown"), selector=selector or None,
        target=args.get("target"), started_at=started or 0.0, finished_at=finished,
        status="error" if failed else "success", git_rev=None, elapsed_s=elapsed,
        est_cost_usd=sum(costs_known) if costs_known else None, full_refresh=bool(args.get("full_refresh")),
        error=f"{len(failed)} node(s) failed" if failed else None, source="import",
    )


def _node(run_id: str, result: dict[str, Any], rate: float | None) -> NodeFinished:
    uid = result["unique_id"]
    resource_type, name = _name(uid)
    spans = {t.get("name"): (_ts(t.get("started_at")), _ts(t.get("completed_at"))) for t in result.get("timing") or []}
    compile_s, execute_s = _span(spans.get("compile")), _span(spans.get("execute"))
    starts = [s for s, _ in spans.values() if s is not None]
    ends = [e for _, e in spans.values() if e is not None]
    rows = (result.get("adapter_response") or {}).get("rows_affected")
    return NodeFinished(
        run_id=run_id, unique_id=uid, name=name, resource_type=resource_type,
        status=str(result.get("status") or "unknown").lower(),
        started_at=min(starts) if starts else None, finished_at=max(ends) if ends else 0.0,
        compile_s=compile_s, execute_s=execute_s if execute_s is not None else result.get("execution_time"),
        thread=result.get("thread_id"), message=result.get("message"),
        rows=int(rows) if rows is not None else None, failures=result.get("failures"),
        est_cost_usd=costs.estimate(execute_s, rate),
    )


def _name(unique_id: str) -> tuple[str, str]:
    parts = unique_id.split(".")
    if parts[0] == "source" and len(parts) >= 4:
        return "source", f"{parts[2]}.{parts[3]}"
    return parts[0], parts[2] if len(parts) > 2 else unique_id


def _span(span: tuple[float | None, float | None] | None) -> float | None:
    if not span or span[0] is None or span[1] is None:
        return None
    return max(0.0, span[1] - span[0])


def _ts(value: str | None) -> float | None:
    """dbt writes UTC times, with or without a trailing Z."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
