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
from tui.core.events import LogLine, RunFinished, Warned
from tui.core.project import Project, load_project
from tui.core.run_requests import RunRequest
from tui.core.run_view import Point, RunView, node_labels
from tui.core.watch import ProjectWatcher, models_for

HistoryLoader = Callable[[Project], dict[str, list[Point]]]


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
    def __init__(self, paths: CockpitPaths, history: HistoryLoader | None = None):
        self.paths = paths
        self._history = history
        self.project: Project | None = None
        self.view: RunView | None = None
        self.labels: dict[str, str] = {}
        self.full_refresh = False
        self.watcher: ProjectWatcher | None = None
        self._manifest_mtime: int | None = None

    def _mtime_of_manifest(self) -> int | None:
        try:
            return (self.paths.target_path / "manifest.json").stat().st_mtime_ns
        except OSError:
            return None

    # --- loading --------------------------------------------------------------------------
    def load(self, project: Project | None = None) -> RunView:
        """(Re)read the manifest (raises ManifestMissing) and the history; returns the new view."""
        self._manifest_mtime = self._mtime_of_manifest()
        self.project = project or load_project(self.paths.target_path)
        self.labels = node_labels(self.project)
        self.view = RunView(self.project, self._history(self.project) if self._history else None)
        return self.view

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
        self.project = load_project(self.paths.target_path)
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
        batch = EventBatch(set(), [], None)
        unknown = any(getattr(e, "unique_id", None) and e.unique_id not in self.view.nodes for e in events) if self.view else False
        if unknown and self.reload_if_changed():
            batch.reloaded = True
        for event in events:
            if self.view is not None:
                batch.changed |= self.view.apply(event)
            if isinstance(event, LogLine):
                batch.log.append(event.message)
            elif isinstance(event, Warned):
                batch.log.append(f"warning {event.code}: {event.message}")
            elif isinstance(event, RunFinished):
                batch.finished = event
        return batch

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
