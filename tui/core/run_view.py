"""The run table's model: one state per node, merged from live run events and run history.

Provides `RunView`, which the TUI renders: for every model, snapshot, seed and test of a
project, the status and result of its latest run (live while a run is in progress), its
history (durations, rows) for medians, changes and sparklines, and the spans of the current
or last run for the timeline. Plain Python, no UI: it is fed the `tui.core.run_events` dataclasses
and answers with the ids of the nodes whose display changed.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field, replace

from tui.core.run_events import LogLine, NodeFinished, NodesPlanned, NodeStarted, RunFinished, RunStarted, Warned
from tui.core.project import Node, Project

RUNNING = "running"
REGRESSION_RATIO = 2.0  # a node at 2x its median or more is a regression...
NOISE_FLOOR_S = 0.25  # ...when it is also slower by more than this (timer and scheduling jitter)...
NOISE_SPREADS = 3.0  # ...and by more than this many of the node's own median absolute deviations
HISTORY_POINTS = 12  # runs shown in a sparkline
FAN_OUT_RATIO = 1.02  # a node whose rows grow this much faster than its parents' rows is a fan-out...
FAN_OUT_MIN_ROWS = 20  # ...when it also gained this many rows more than its parents' growth explains
UNDRAWN = ("cancelled", "interrupted", "skipped", RUNNING)  # results that say nothing of time or rows


@dataclass(frozen=True)
class Point:
    """One node's result in one run."""

    run_id: str
    status: str
    duration_s: float | None
    rows: int | None = None
    started_at: float | None = None
    finished_at: float | None = None
    thread: str | None = None
    failures: int | None = None
    message: str | None = None
    cost_usd: float | None = None  # estimate (execute seconds x rate), see tui.core.run_events


@dataclass(frozen=True)
class Span:
    """A node's bar on the timeline: who ran it, from when to when (end None while running)."""

    unique_id: str
    name: str
    thread: str
    start: float
    end: float | None
    status: str


@dataclass
class NodeState:
    node: Node
    past: list[Point] = field(default_factory=list)  # completed earlier runs, oldest first
    current: Point | None = None  # latest result, live during a run
    started_at: float | None = None  # set while running
    parents: list[NodeState] = field(default_factory=list, repr=False, compare=False)  # model, seed and snapshot parents

    @property
    def status(self) -> str | None:
        return self.current.status if self.current else None

    @property
    def running(self) -> bool:
        return self.status == RUNNING

    @property
    def duration_s(self) -> float | None:
        return self.current.duration_s if self.current else None

    @property
    def rows(self) -> int | None:
        return self.current.rows if self.current else None

    def elapsed(self, now: float) -> float | None:
        return now - self.started_at if self.running and self.started_at else None

    @property
    def median_s(self) -> float | None:
        """Median duration over earlier successful runs (the current one excluded)."""
        times = self._past_durations()
        return statistics.median(times) if times else None

    def _past_durations(self) -> list[float]:
        return [p.duration_s for p in self.past if p.duration_s is not None and p.status in ("success", "pass", "warn", "fail")]

    @property
    def ratio(self) -> float | None:
        median, now = self.median_s, self.duration_s
        if median is None or now is None or self.running or median <= 0:
            return None
        return now / median

    @property
    def noise_s(self) -> float:
        """How much slower or faster than its median this node can run by chance: an absolute floor,
        or a multiple of the spread of its own earlier durations, whichever is larger."""
        times = self._past_durations()
        if len(times) < 2:
            return NOISE_FLOOR_S
        median = statistics.median(times)
        spread = statistics.median(abs(t - median) for t in times)
        return max(NOISE_FLOOR_S, NOISE_SPREADS * spread)

    @property
    def beyond_noise(self) -> bool:
        """The latest duration differs from the median by more than `noise_s`."""
        median, now = self.median_s, self.duration_s
        return median is not None and now is not None and not self.running and abs(now - median) > self.noise_s

    @property
    def regressed(self) -> bool:
        ratio = self.ratio
        return ratio is not None and ratio >= REGRESSION_RATIO and self.beyond_noise

    @property
    def delta_rows(self) -> int | None:
        previous = next((p.rows for p in reversed(self.past) if p.rows is not None), None)
        if previous is None or self.rows is None:
            return None
        return self.rows - previous

    @property
    def growth(self) -> float | None:
        """Rows now against the previous run's rows."""
        previous = next((p.rows for p in reversed(self.past) if p.rows is not None), None)
        if not previous or self.rows is None or self.running:
            return None
        return self.rows / previous

    @property
    def fan_out(self) -> float | None:
        """How much faster this node's rows grew than its fastest-growing parent's (the fan-out
        signal of a join), when that is clearly more; else None."""
        mine = self.growth
        theirs = [g for p in self.parents if (g := p.growth) is not None]
        if mine is None or not theirs or self.node.resource_type == "test":
            return None
        ratio = mine / max(theirs)
        previous = self.rows / mine if mine else 0
        extra = self.rows - previous * max(theirs)
        return ratio if ratio >= FAN_OUT_RATIO and extra >= FAN_OUT_MIN_ROWS else None

    def series(self, attribute: str, points: int = HISTORY_POINTS) -> list[float]:
        """Durations or rows of the last runs (the current one included), oldest first."""
        return [value for _, value in self.timed_series(attribute, points)]

    def timed_series(self, attribute: str, points: int = HISTORY_POINTS) -> list[tuple[float | None, float]]:
        """(finished at, value) of the last runs that ran this node to the end, oldest first:
        a cancelled, interrupted or skipped node has no duration or rows worth drawing."""
        chain = self.past + ([self.current] if self.current and not self.running else [])
        kept = [(p.finished_at, getattr(p, attribute)) for p in chain if p.status not in UNDRAWN]
        return [(at, float(value)) for at, value in kept if value is not None][-points:]

    def begin(self, point: Point) -> None:
        """Start a new result: the previous one becomes history."""
        if self.current is not None and self.current.run_id != point.run_id and not self.running:
            self.past.append(self.current)
        self.current = point


class RunView:
    """Every executable node of a project with its latest result and history."""

    def __init__(self, project: Project, history: dict[str, list[Point]] | None = None):
        self.project = project
        self.nodes: dict[str, NodeState] = {n.unique_id: NodeState(n) for n in project.in_dag_order()}
        for state in self.nodes.values():
            state.parents = [self.nodes[p] for p in state.node.depends_on if p in self.nodes]
        self.run: RunStarted | None = None
        self.finished: RunFinished | None = None
        self.planned = 0
        self.done = 0
        self.spans: dict[str, Span] = {}
        self.log: list[str] = []
        self.warnings: list[Warned] = []
        self.cancel_requested_at: float | None = None  # set when the user asks to cancel
        if history:
            self.load_history(history)

    def adopt(self, old: RunView) -> None:
        """Carry results and the run in progress over from the view of an older manifest."""
        for uid, state in old.nodes.items():
            if uid in self.nodes:
                mine = self.nodes[uid]
                mine.past, mine.current, mine.started_at = state.past, state.current, state.started_at
        self.run, self.finished, self.planned, self.done = old.run, old.finished, old.planned, old.done
        self.spans = {uid: span for uid, span in old.spans.items() if uid in self.nodes}
        self.log, self.warnings = old.log, old.warnings
        self.cancel_requested_at = old.cancel_requested_at

    def load_history(self, history: dict[str, list[Point]]) -> None:
        """Per node, earlier runs oldest first: the newest becomes the shown result."""
        for uid, points in history.items():
            state = self.nodes.get(uid)
            if state is None or not points:
                continue
            state.past, state.current = list(points[:-1]), points[-1]
        self.spans = self._spans_of_latest_run()

    def _spans_of_latest_run(self) -> dict[str, Span]:
        latest = self.last_run()
        if latest is None:
            return {}
        spans = {}
        for uid, state in self.nodes.items():
            p = state.current
            if p and p.run_id == latest.run_id and p.started_at and p.finished_at:
                spans[uid] = Span(uid, state.node.name, p.thread or "main", p.started_at, p.finished_at, p.status)
        return spans

    def last_run(self) -> Point | None:
        """The newest finished result of any node: when and how the last run ended."""
        finished = [s.current for s in self.nodes.values() if s.current and s.current.finished_at]
        return max(finished, key=lambda p: p.finished_at, default=None)

    def last_run_outcome(self) -> tuple[str, float] | None:
        """("ok", "failed" or "cancelled", finished at) of the newest run seen in the results."""
        last = self.last_run()
        if last is None:
            return None
        statuses = {s.current.status for s in self.nodes.values() if s.current and s.current.run_id == last.run_id}
        if statuses & {"cancelled", "interrupted"}:
            return "cancelled", last.finished_at
        failed = bool(statuses & {"error", "fail", "runtime error"})
        return ("failed" if failed else "ok"), last.finished_at

    # --- grouping -------------------------------------------------------------------------
    def groups(self) -> list[tuple[str, list[NodeState]]]:
        """Nodes grouped by the project's folders (groups in DAG order), DAG order inside each group."""
        by_group: dict[str, list[NodeState]] = {}
        for state in self.nodes.values():
            by_group.setdefault(state.node.group, []).append(state)
        rank = {group: i for i, group in enumerate(self.project.group_order())}
        return sorted(by_group.items(), key=lambda item: rank.get(item[0], len(rank)))

    def result_age(self, state: NodeState) -> str | None:
        """How a node's shown result relates to the run of this session: None when it is from that run
        (or there is none), else "waiting" (a full build has not reached it yet), "not_run" (a full build
        ended, cancelled or failed, without running it) or "earlier" (the run did not select it: the
        result shown is its last one)."""
        run = self.run
        if run is None or state.current is None or state.current.run_id == run.run_id:
            return None
        if run.selector is not None or run.command != "build":
            return "earlier"
        return "waiting" if self.finished is None else "not_run"

    # --- live events ----------------------------------------------------------------------
    @property
    def in_progress(self) -> bool:
        return self.run is not None and self.finished is None

    def apply(self, event) -> set[str]:
        """Fold one event in; return the ids of nodes whose row changed."""
        handler = getattr(self, "_on_" + type(event).__name__, None)
        return handler(event) or set() if handler else set()

    def _on_RunStarted(self, event: RunStarted) -> set[str]:
        self.run, self.finished = event, None
        self.planned = self.done = 0
        self.cancel_requested_at = None
        self.spans = {}
        self.warnings = []
        return set()

    def _on_NodesPlanned(self, event: NodesPlanned) -> set[str]:
        self.planned = event.total
        return set()

    def _on_NodeStarted(self, event: NodeStarted) -> set[str]:
        state = self.nodes.get(event.unique_id)
        if state is None:
            return set()
        state.begin(Point(event.run_id, RUNNING, None, started_at=event.started_at, thread=event.thread))
        state.started_at = event.started_at
        self.spans[event.unique_id] = Span(event.unique_id, event.name, event.thread or "main", event.started_at, None, RUNNING)
        return {event.unique_id}

    def _on_NodeFinished(self, event: NodeFinished) -> set[str]:
        self.done += 1
        state = self.nodes.get(event.unique_id)
        if state is None:
            return set()
        duration = _duration(event)
        point = Point(event.run_id, event.status, duration, event.rows, event.started_at, event.finished_at,
                      event.thread, event.failures, event.message, event.est_cost_usd)
        state.begin(point)
        state.started_at = None
        if event.started_at is not None:
            thread = event.thread or self.spans.get(event.unique_id, Span("", "", "main", 0, None, "")).thread
            self.spans[event.unique_id] = Span(event.unique_id, event.name, thread, event.started_at, event.finished_at, event.status)
        return {event.unique_id}

    def _on_RunFinished(self, event: RunFinished) -> set[str]:
        self.finished = event
        changed = set()
        for uid, state in self.nodes.items():
            if event.status == "cancelled" and self._killed_by_cancel(state, event.run_id):
                state.current = replace(state.current, status="cancelled")
                changed.add(uid)
            if state.running:
                state.current = Point(event.run_id, "cancelled", None, started_at=state.started_at,
                                      finished_at=event.finished_at, thread=state.current.thread)
                state.started_at = None
                span = self.spans.get(uid)
                if span:
                    self.spans[uid] = Span(uid, span.name, span.thread, span.start, event.finished_at, "cancelled")
                changed.add(uid)
        return changed

    def _killed_by_cancel(self, state: NodeState, run_id: str) -> bool:
        """A node of this run that failed after the user asked to cancel was interrupted, not broken."""
        point, asked = state.current, self.cancel_requested_at
        return (asked is not None and point is not None and point.run_id == run_id and point.status == "error"
                and (point.finished_at or 0) >= asked)

    def _on_LogLine(self, event: LogLine) -> set[str]:
        self.log.append(event.message)
        return set()

    def _on_Warned(self, event: Warned) -> set[str]:
        self.warnings.append(event)
        return set()


def _duration(event: NodeFinished) -> float | None:
    if event.started_at is not None:
        return max(0.0, event.finished_at - event.started_at)
    parts = [s for s in (event.compile_s, event.execute_s) if s is not None]
    return sum(parts) if parts else None


BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int = 8) -> str:
    """Unicode block sparkline of the last `width` values, scaled between their min and max."""
    values = values[-width:]
    if not values:
        return ""
    low, high = min(values), max(values)
    if high - low < 1e-12:
        return BLOCKS[3] * len(values)
    scale = (len(BLOCKS) - 1) / (high - low)
    return "".join(BLOCKS[round((v - low) * scale)] for v in values)


def node_labels(project: Project) -> dict[str, str]:
    """Short display names: tests read `stg_claims.claim_id unique` instead of dbt's long names, the
    model and column first, so that a name cut on a narrow terminal still tells the rows apart."""
    labels = {uid: node.name for uid, node in project.nodes.items()}
    for uid, node in project.nodes.items():
        if node.resource_type == "test":
            continue
        for test in project.tests_of(uid):
            column = f".{test.column}" if test.column else ""
            labels[test.unique_id] = f"{node.name}{column} {test.test_name}"
    return labels
