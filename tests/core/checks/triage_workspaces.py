"""Real workspaces for the triage tests, built once per test process (shared by the core, CLI and
TUI tests): the embedded dbt project on the `test` size, built on a clean baseline and checked
(its facts stored as the baseline), then copied twice: one gets the `incident` feeds (with malformed lines), the other a
clean next-day feed; each is built again. Builds run `pipeline-tui build` in a subprocess, like a
user would. Callers that write into a workspace should work on `copy_of(...)`.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

from tui.core.generator import add_next_day, generate
from tui.core.workspace import Workspace

_ROOT = Path(tempfile.mkdtemp(prefix="triage-ws-"))
atexit.register(shutil.rmtree, _ROOT, ignore_errors=True)
CLI = [sys.executable, "-c", "from tui.cli import main; main()"]


def workspace(root: Path) -> Workspace:
    return Workspace.resolve(workspace=root)


def build(root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    done = subprocess.run([*CLI, "--workspace", str(root), "build"], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def copy_of(root: Path, name: str) -> Path:
    target = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=_ROOT))
    shutil.copytree(root, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("*.wal", "triage"))
    return target


@lru_cache(maxsize=None)
def baseline_root() -> Path:
    from tui.core.checks.triage import run_checks

    root = _ROOT / "baseline"
    generate(workspace(root).ensure_dirs().raw_dir, "baseline", size="test")
    build(root)
    run_checks(workspace(root), families=["profile", "drift", "keys", "integrity", "rules", "raw_files"])
    return root


@lru_cache(maxsize=None)
def incident_root() -> Path:
    root = copy_of(baseline_root(), "incident")
    generate(workspace(root).raw_dir, "incident", size="test", malformed=True)
    build(root)
    return root


@lru_cache(maxsize=None)
def next_day_root() -> Path:
    root = copy_of(baseline_root(), "next-day")
    add_next_day(workspace(root).raw_dir)
    build(root)
    return root
