"""Turns dbt's event callbacks into `tui.core.run_events` dataclasses.

Provides `EventTranslator`, a callable given to `dbtRunner(callbacks=[...])`. A build fires about
a thousand events, mostly connection and cache chatter; the translator looks at the event name
first and drops everything it does not map, so only a few dozen objects reach the listeners.
It also collects what the session needs to finish the run: failed nodes, the first error line,
and whether the selection matched nothing. While `defer_counts()` is true (asked per node: dbt
opens its connections only once the run starts), a NodeFinished whose row count needs a query is
emitted as a zero-argument callable that makes it (the session's event thread runs the count, so
dbt's thread goes on at once).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import Any, Callable

from tui.core import costs
from tui.core.run_events import LogLine, NodeFinished, NodesPlanned, NodeStarted, RunStarted, Warned

COUNTED_TYPES = ("model", "seed", "snapshot")
FAILED_STATUSES = ("error", "fail")
STATUS_ALIASES = {"runtime error": "error", "skip": "skipped", "no-op": "success"}
# Result lines repeat what NodeFinished already says; these never become Warned/LogLine events.
QUIET = {
    "LogStartLine", "LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult",
    "LogNodeResult", "LogFreshnessResult", "RunResultWarning", "RunResultFailure", "NodeFinished",
    "NodeStart", "ConcurrencyLine", "MainReportVersion", "EndOfRunSummary", "StatsLine",
    "Formatting", "SkippingDetails", "LogSkipBecauseError", "EndRunResult", "FinishedRunningStats",
    "MainStackTrace",  # a traceback: the dbt log file keeps it, the user gets one line
}
CANCEL_NOISE = {"MainEncounteredError", "MainKeyboardInterrupt", "LogCancelLine", "RunResultError"}
NOTHING_SELECTED = {"NoNodesForSelectionCriteria", "NothingToDo"}
LEVELS = ("info", "warn", "error")

RowCounter = Callable[[str], "int | None"]  # relation name -> rows (None when unknown)


def _pb_seconds(ts: Any) -> float | None:
    seconds = ts.seconds + ts.nanos / 1e9
    return seconds or None


def _iso_seconds(value: str) -> float | None:
    """dbt's node timestamps are naive UTC ISO strings."""
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp()


class EventTranslator:
    def __init__(self, command: str, selector: str | None, target: str | None, full_refresh: bool,
                 emit: Callable[[Any], None], *, count_rows: RowCounter | None = None,
                 rate_per_hour: float | None = None, cancelling: Callable[[], bool] = lambda: False,
                 count_views: bool = False, defer_counts: Callable[[], bool] = lambda: False):
        self.defer_counts = defer_counts
        self.command, self.selector, self.target, self.full_refresh = command, selector, target, full_refresh
        self.emit, self.count_rows, self.rate = emit, count_rows, rate_per_hour
        self.cancelling, self.count_views = cancelling, count_views
        self.run_id: str | None = None
        self.planned = 0
        self.started_at = time.time()
        self.failed: list[str] = []
        self.first_error: str | None = None
        self.nothing_selected = False
        self.parsed = False  # a ManifestLoaded/parse happened inside this invocation
        self._handlers = {
            "MainReportVersion": self._on_start, "ConcurrencyLine": self._on_planned,
            "LogStartLine": self._on_node_start, "NodeFinished": self._on_node_finished,
        }

    def __call__(self, msg: Any) -> None:
        name = msg.info.name
        handler = self._handlers.get(name)
        if handler is not None:
            handler(msg)
            return
        if name in ("ParseCmdPerfInfoPath", "ManifestWrongMetadataVersion", "PartialParsingEnabled",
                    "UnableToPartialParse", "PartialParsingError", "ParsedFileLoadFailed"):
            self.parsed = True
        if name in NOTHING_SELECTED:
            self.nothing_selected = True
        level = msg.info.level
        if self.cancelling() and name in CANCEL_NOISE:
            return
        if level in LEVELS and name not in QUIET and msg.info.msg:
            self._on_message(name, level, msg)

    def ensure_started(self, run_id: str) -> None:
        if self.run_id is None:
            self.run_id = run_id
            self.emit(RunStarted(run_id, self.command, self.selector, self.target, self.started_at,
                                 self.full_refresh))

    # --- handlers -------------------------------------------------------------------------
    def _on_start(self, msg: Any) -> None:
        self.ensure_started(msg.info.invocation_id)

    def _on_planned(self, msg: Any) -> None:
        self.ensure_started(msg.info.invocation_id)
        self._plan(int(msg.data.node_count))

    def _plan(self, total: int) -> None:
        """ConcurrencyLine leaves unit tests out; the start lines' total counts them: keep the latest."""
        if total and total != self.planned:
            self.planned = total
            self.emit(NodesPlanned(self.run_id, total))

    def _on_node_start(self, msg: Any) -> None:
        self.ensure_started(msg.info.invocation_id)
        self._plan(int(msg.data.total))
        node = msg.data.node_info
        self.emit(NodeStarted(
            self.run_id, node.unique_id, node.node_name, node.resource_type, node.materialized or None,
            msg.info.thread or None, _iso_seconds(node.node_started_at) or time.time(),
            int(msg.data.index) or None,
        ))

    def _on_node_finished(self, msg: Any) -> None:
        self.ensure_started(msg.info.invocation_id)
        node, result = msg.data.node_info, msg.data.run_result
        spans = {t.name: (_pb_seconds(t.started_at), _pb_seconds(t.completed_at)) for t in result.timing_info}
        compile_s, execute_s = _span(spans.get("compile")), _span(spans.get("execute"))
        status = self._status(result.status)
        if status in FAILED_STATUSES or (status == "cancelled"):
            self.failed.append(node.node_name)
            if status == "error" and not self.first_error and result.message:
                self.first_error = result.message.strip()
        rows, relation = self._rows(node, status, result)
        event = NodeFinished(
            self.run_id, node.unique_id, node.node_name, node.resource_type, status,
            _iso_seconds(node.node_started_at), _iso_seconds(node.node_finished_at) or time.time(),
            compile_s, execute_s, result.thread or msg.info.thread or None, result.message or None,
            rows, int(result.num_failures) if node.resource_type == "test" else None,
            costs.estimate(execute_s, self.rate) if node.resource_type != "test" or execute_s else None,
        )
        if relation is None:
            self.emit(event)
        elif self.defer_counts():
            self.emit(lambda: replace(event, rows=self.count_rows(relation)))
        else:
            self.emit(replace(event, rows=self.count_rows(relation)))

    def _on_message(self, name: str, level: str, msg: Any) -> None:
        text = msg.info.msg.strip()
        if level == "error" and not self.first_error and name not in ("RunResultError",):
            self.first_error = text
        if self.run_id is None:
            return  # before the invocation started: nothing to attach it to
        if level == "warn":
            uid = getattr(getattr(msg.data, "node_info", None), "unique_id", None) or None
            self.emit(Warned(self.run_id, name, warning_text(name, msg.data, text), uid))
        else:
            self.emit(LogLine(self.run_id, level, text))

    # --- helpers --------------------------------------------------------------------------
    def _status(self, raw: str) -> str:
        status = STATUS_ALIASES.get(raw.lower(), raw.lower()) or "success"
        if status == "error" and self.cancelling():
            return "cancelled"
        return status

    def _rows(self, node: Any, status: str, result: Any) -> tuple[int | None, str | None]:
        """(rows known now, relation whose rows are still to be counted)."""
        if status != "success" or node.resource_type not in COUNTED_TYPES or self.cancelling():
            return None, None
        affected = _rows_affected(result)
        if node.resource_type == "seed" and affected is not None:
            return affected, None
        if node.materialized in ("ephemeral",) or (node.materialized == "view" and not self.count_views):
            return None, None
        relation = node.node_relation.relation_name
        if not relation or self.count_rows is None:
            return affected, None
        return None, relation


def warning_text(name: str, data: Any, text: str) -> str:
    """A warning whose first line says what it is about: dbt's deprecation warnings start with
    "Deprecated functionality" and name the deprecation (or, in the summary, all of them) below."""
    if name == "DeprecationsSummary":
        found = [f"{s.event_name} ({s.occurrences} occurrence{'s' if s.occurrences != 1 else ''})"
                 for s in getattr(data, "summaries", ())]
        if found:
            return (f"deprecated dbt features in this project: {', '.join(found)} "
                    "(dbt.log says where; dbt's --show-all-deprecations lists every occurrence)")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if lines and lines[0].endswith("Deprecated functionality") and len(lines) > 1:
        return f"deprecated: {' '.join(lines[1:])}"
    return text


def _rows_affected(result: Any) -> int | None:
    response = result.adapter_response
    if "rows_affected" not in response:
        return None
    return int(response["rows_affected"])


def _span(span: tuple[float | None, float | None] | None) -> float | None:
    if not span or span[0] is None or span[1] is None:
        return None
    return max(0.0, span[1] - span[0])
