"""The feed-contract warnings of a build, checked again only when the feeds or the manifest changed.

Provides `FeedContractWarnings(manifest_path, raw_dir)`: `lines()` returns the one-line warnings of
`tui.core.feed_contract` (a raw feed column renamed, added, missing or moved). Checking parses the
manifest and samples every feed (30-60 ms on the demo project, most of a warm rebuild's tail), so the
lines are kept with a signature of the manifest and every raw file (path, size, mtime) and reused
while that signature holds: a warm rebuild of one model re-stats a few files instead.
"""

from __future__ import annotations

import os
from pathlib import Path


class FeedContractWarnings:
    def __init__(self, manifest_path: Path, raw_dir: Path):
        self.manifest_path, self.raw_dir = Path(manifest_path), Path(raw_dir)
        self._signature: tuple | None = None
        self._lines: list[str] = []

    def lines(self) -> list[str]:
        """The warnings now (an unreadable feed or manifest gives none: it must never fail a run)."""
        signature = self._current_signature()
        if signature != self._signature:
            from tui.core.feed_contract import check_feeds, summary

            try:
                self._lines = summary(check_feeds(self.manifest_path, self.raw_dir))
            except Exception:
                self._lines = []
            self._signature = signature
        return list(self._lines)

    def _current_signature(self) -> tuple:
        return (_stat(self.manifest_path), tuple(sorted(_tree_stats(self.raw_dir))))


def _stat(path: Path | str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


def _tree_stats(root: Path) -> list[tuple[str, tuple[int, int] | None]]:
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            path = os.path.join(folder, name)
            found.append((path, _stat(path)))
    return found
