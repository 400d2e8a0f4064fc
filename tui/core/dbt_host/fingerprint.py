"""Has the dbt project changed since it was parsed? A cheap content fingerprint of its files.

Provides `ProjectFingerprint`: `changed()` stats every file dbt reads (SQL, YAML, Python models,
seeds, docs, and `profiles.yml`), hashes only files whose size or mtime moved, and answers True
when a file was added, removed or its content differs. `snapshot()` records the current state
after a parse. A dbt manifest passed to `dbtRunner` is never checked against the files by dbt,
so this is what keeps an edit from being silently ignored.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

DBT_SUFFIXES = {".sql", ".yml", ".yaml", ".py", ".csv", ".md", ".jinja", ".j2"}
SKIP_DIRS = {"target", "logs", "__pycache__", "node_modules", ".git", ".venv", "venv"}


class ProjectFingerprint:
    def __init__(self, project_dir: Path, extra_files: tuple[Path, ...] = (), skip: tuple[Path, ...] = ()):
        self.project_dir = Path(project_dir)
        self.extra_files = tuple(Path(p) for p in extra_files)
        self._skip = {Path(p).resolve() for p in skip}
        self._stats: dict[str, tuple[int, int]] = {}
        self._hashes: dict[str, str] = {}

    def _files(self) -> dict[str, tuple[int, int]]:
        found: dict[str, tuple[int, int]] = {}
        for root, dirs, files in os.walk(self.project_dir):
            dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")
                       and Path(root, d).resolve() not in self._skip]
            for name in files:
                if os.path.splitext(name)[1] in DBT_SUFFIXES:
                    _stat_into(found, os.path.join(root, name))
        for extra in self.extra_files:
            _stat_into(found, str(extra))
        return found

    def changed(self) -> bool:
        """True when the project's files differ in content from the last `snapshot()` (or none was taken)."""
        if not self._stats:
            return True
        current = self._files()
        if current.keys() != self._stats.keys():
            return True
        for path, stat in current.items():
            if stat != self._stats[path] and _hash(path) != self._hashes.get(path):
                return True
        return False

    def reset(self) -> None:
        """Forget the snapshot: the next `changed()` is True (e.g. after a failed parse)."""
        self._stats, self._hashes = {}, {}

    def snapshot(self) -> None:
        """Remember the project as it is now (call right before parsing)."""
        current = self._files()
        hashes = {}
        for path, stat in current.items():
            same = self._stats.get(path) == stat and path in self._hashes
            hashes[path] = self._hashes[path] if same else _hash(path)
        self._stats, self._hashes = current, hashes


def _stat_into(found: dict[str, tuple[int, int]], path: str) -> None:
    try:
        stat = os.stat(path)
    except OSError:
        return
    found[path] = (stat.st_mtime_ns, stat.st_size)


def _hash(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            return hashlib.blake2b(handle.read(), digest_size=16).hexdigest()
    except OSError:
        return ""
