"""Watch mode's file watcher: cheap polling of modification times under a dbt project.

Provides `ProjectWatcher`: `changed()` returns the project files saved since the previous
call (first call only takes a baseline), and `models_for(paths, project)` maps files to the
nodes defined in them. Polling a few hundred `stat` calls a second costs well under 1 ms;
no extra dependency, works on every platform and network file system.
"""

from __future__ import annotations

import os
from pathlib import Path

from tui.core.project import Project

WATCHED_SUFFIXES = (".sql", ".yml", ".yaml", ".csv", ".py")
WATCHED_DIRS = ("models", "snapshots", "seeds", "macros", "tests")


class ProjectWatcher:
    def __init__(self, project_dir: Path):
        self.project_dir = Path(project_dir)
        self._mtimes: dict[str, float] | None = None

    def _scan(self) -> dict[str, float]:
        mtimes = {}
        for folder in WATCHED_DIRS:
            for root, _dirs, files in os.walk(self.project_dir / folder):
                for name in files:
                    if name.endswith(WATCHED_SUFFIXES):
                        path = os.path.join(root, name)
                        try:
                            mtimes[path] = os.stat(path).st_mtime_ns
                        except FileNotFoundError:
                            continue
        return mtimes

    def changed(self) -> list[Path]:
        """Files added or modified since the previous call, relative to the project dir."""
        now = self._scan()
        before, self._mtimes = self._mtimes, now
        if before is None:
            return []
        return sorted(Path(p).relative_to(self.project_dir) for p, m in now.items() if before.get(p) != m)


def models_for(paths: list[Path], project: Project) -> list[str]:
    """Names of the models, seeds and snapshots defined in these files (YAML and macros map to none)."""
    wanted = {str(p) for p in paths}
    return sorted(
        n.name for n in project.nodes.values()
        if n.resource_type != "test" and n.original_file_path in wanted
    )
