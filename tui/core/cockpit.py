"""The cockpit's state without the UI: paths, the loaded project, its run view and the quick actions.

Provides `CockpitPaths` (where the project, its target, the warehouse, the state copy and the
history live) and `Cockpit`, which loads the project's manifest and history into a `RunView`,
turns the user's actions into `RunRequest`s (or a one-line reason why not), folds run events
in, and keeps the last successful run's manifest as the `state:modified` baseline. The TUI maps
keys to these methods; a headless script could drive them the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from tui.core import run_requests
from tui.core.run_events import LogLine, RunFinished, Warned
from tui.core.project import ManifestMissing, Project, load_project
from tui.core.run_requests import RunRequest
from tui.core.run_view import Point, RunView, node_labels
from tui.core.trends import RunTotal, full_builds, run_totals
from tui.core.watch import ProjectWatcher, models_for

HistoryLoader = Callable[[Project], dict[str, list[Point]]]
RunsLoader = Callable[[], list[RunTotal]]
HISTORY_RUNS = 30  # runs of history per node kept in the view (sparklines, medians, charts)


def store_history(history_path: Path) -> tuple[HistoryLoader, RunsLoader]:
    """Loaders reading the run history store (SQLite) that the dbt session records into. They
    import it when first called: the app calls them after its first frame."""

    def points(project: Project) -> dict[str, list[Point]]:
        from tui.core.history import HistoryStore

        with HistoryStore(history_path) as store:
            results = store.node_history(list(project.nodes), last=HISTORY_RUNS)
        return {uid: [_point(r) for r in rows] for uid, rows in results.items()}

    def runs() -> list[RunTotal]:
        from tui.core.history import HistoryStore

        with HistoryStore(history_path) as store:
            records = store.recent_runs(HISTORY_RUNS, command="build")
        return full_builds(records)

    return points, runs


def _read_project(target_path: Path) -> Project:
    """The manifest, or ManifestMissing when it is absent or half-written (dbt rewrites it in place)."""
    try:
        return load_project(target_path)
    except ValueError as error:
        raise ManifestMissing(f"the manifest in {target_path} is being written; it loads on the next run") from error


def _point(result) -> Point:
    return Point(result.run_id, result.status, result.duration_s, result.rows, result.started_at,
                 result.finished_at, result.thread, result.failures, result.message, result.est_cost_usd)


@dataclass(frozen=True)
class CockpitPaths:
    project_dir: Path
    target_path: Path
    warehouse: Path | None
    state_dir: Path  # copy of the manifest of the last successful run


@dataclass
class EventBatch:
    changed: set[str]
    log: list[str]
    finished: RunFinished | None
    reloaded: bool = False  # the project changed shape: redraw everything


class Cockpit:
    def __init__(self, paths: CockpitPaths, history: HistoryLoader | None = None, runs: RunsLoader | None = None):
        self.paths = paths
        self._history = history
        self._runs = runs
        self.project: Project | None = None
        self.view: RunView | None = None
        self.labels: dict[str, str] = {}
        self.full_refresh = False
        self.watcher: ProjectWatcher | None = None
        self._manifest_mtime: int | None = None
        self._waiting: list = []  # events that arrived before the first manifest

    def _mtime_of_manifest(self) -> int | None:
        try:
            return (self.paths.target_path / "manifest.json").stat().st_mtime_ns
        except OSError:
            return None

    # --- loading --------------------------------------------------------------------------
    def load(self, project: Project | None = None) -> RunView:
        """(Re)read the manifest (raises ManifestMissing) and the history; returns the new view."""
        self._manifest_mtime = self._mtime_of_manifest()
        self.project = project or _read_project(self.paths.target_path)
        self.labels = node_labels(self.project)
        self.view = RunView(self.project, self._history(self.project) if self._history else None)
        return self.view

    def run_totals(self) -> list[RunTotal]:
        """Full builds, oldest first: from the history store when there is one, else from the view."""
        if self._runs is not None:
            return self._runs()
        return run_totals(self.view) if self.view else []

    def reload_if_changed(self) -> bool:
        """Re-read a manifest the worker re-parsed (new or renamed nodes), keeping every result."""
        manifest = self.paths.target_path / "manifest.json"
        try:
            mtime = manifest.stat().st_mtime_ns
        except OSError:
            return False
        if self.view is None or mtime == self._manifest_mtime:
            return False
        old = self.view
        try:
            self.project = _read_project(self.paths.target_path)
        except ManifestMissing:  # being rewritten right now: the next event tries again
            return False
        self._manifest_mtime = mtime
        self.labels = node_labels(self.project)
        self.view = RunView(self.project)
        self.view.adopt(old)
        return True

    def warehouse_bytes(self) -> int | None:
        path = self.paths.warehouse
        try:
            return os.path.getsize(path) if path else None
        except OSError:
            return None

    # --- actions --------------------------------------------------------------------------
    def request(self, action: str, uid: str | None = None) -> RunRequest | str:
        """The request for a quick action, or one line saying why it cannot run now."""
        full = self.full_refresh
        if action == "build":
            return run_requests.build_all(full)
        if action == "modified":
            if not run_requests.has_state(self.paths.state_dir):
                return "no successful run to compare with yet: press b to build everything first"
            return run_requests.modified(self.paths.state_dir, full)
        node = self.project.nodes.get(uid) if (self.project and uid) else None
        if node is None:
            return "select a node first (arrow keys), then press the key again"
        if action == "rebuild":
            return run_requests.rebuild(node, full)
        if action == "downstream":
            return run_requests.rebuild_downstream(node, full)
        if action == "test":
            return run_requests.test(node)
        raise ValueError(f"unknown action {action}")

    # --- runs -----------------------------------------------------------------------------
    def apply(self, events: list) -> EventBatch:
        """Fold run events in. Before a first parse there is no view yet: events wait for it."""
        batch = EventBatch(set(), [], None)
        if self.view is None:
            self._waiting += events
            if not self._load_quietly():
                return self._log_only(events, batch)
            events, self._waiting, batch.reloaded = self._waiting, [], True
        unknown = any(getattr(e, "unique_id", None) and e.unique_id not in self.view.nodes for e in events)
        if unknown and self.reload_if_changed():
            batch.reloaded = True
        for event in events:
            batch.changed |= self.view.apply(event)
        return self._log_only(events, batch)

    @staticmethod
    def _log_only(events: list, batch: EventBatch) -> EventBatch:
        for event in events:
            if isinstance(event, LogLine):
                batch.log.append(event.message)
            elif isinstance(event, Warned):
                batch.log.append(f"warning {event.code}: {event.message}")
            elif isinstance(event, RunFinished):
                batch.finished = event
        return batch

    def _load_quietly(self) -> bool:
        try:
            self.load()
        except ManifestMissing:
            return False
        return True

    def run_done(self, status: str) -> None:
        """After an invocation: keep the manifest of a successful run as the state baseline."""
        if status == "success":
            run_requests.save_state(self.paths.target_path, self.paths.state_dir)

    # --- watch mode -----------------------------------------------------------------------
    def toggle_watch(self) -> bool:
        self.watcher = None if self.watcher else ProjectWatcher(self.paths.project_dir)
        if self.watcher:
            self.watcher.changed()  # baseline
        return self.watcher is not None

    def watch_request(self) -> RunRequest | None:
        """A rebuild for files saved since the last poll (models and their children), if any."""
        if self.watcher is None or self.project is None:
            return None
        paths = self.watcher.changed()
        if not paths:
            return None
        names = models_for(paths, self.project)
        if names:
            return run_requests.rebuild_changed(names, self.full_refresh)
        if run_requests.has_state(self.paths.state_dir):
            return run_requests.modified(self.paths.state_dir, self.full_refresh)
        return run_requests.build_all(self.full_refresh)
