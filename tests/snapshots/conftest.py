"""Snapshot tests reuse the TUI tests' real parsed project and deterministic history (tests/tui/tui_helpers.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tui"))

from tui_helpers import make_tiny_project  # noqa: E402


@pytest.fixture(scope="session")
def snapshot_project(tmp_path_factory) -> Path:
    return make_tiny_project(tmp_path_factory.mktemp("tiny_snap"))


@pytest.fixture(autouse=True)
def utc_clock(monkeypatch):
    """Charts label their x axis with local times: pin the zone so snapshots match on any machine."""
    import time

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()
