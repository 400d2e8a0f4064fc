"""What the cockpit's keys ask dbt to do, as plain requests; and the state kept for `state:modified`.

Provides `RunRequest` (command, selector, flags) with one constructor per quick action, and
`save_state` / `has_state`: after each successful run the manifest is copied into a state
directory, so "rebuild what changed since the last run" is `build -s state:modified+ --state DIR`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from tui.core.project import Node


@dataclass(frozen=True)
class RunRequest:
    command: str  # build, test, run, seed, snapshot
    select: str | None = None
    full_refresh: bool = False
    state_dir: str | None = None  # for state: selectors
    label: str = ""  # what the user asked, for the header and notifications

    @property
    def args(self) -> list[str]:
        """The dbt command line this request stands for (also what the headless CLI would run)."""
        args = [self.command]
        if self.select:
            args += ["--select", self.select]
        if self.full_refresh and self.command in ("build", "run", "seed"):
            args.append("--full-refresh")
        if self.state_dir:
            args += ["--state", self.state_dir]
        return args


def build_all(full_refresh: bool = False) -> RunRequest:
    return RunRequest("build", None, full_refresh, label="build all")


def rebuild(node: Node, full_refresh: bool = False) -> RunRequest:
    return RunRequest(_command_for(node), node.name, full_refresh, label=f"rebuild {node.name}")


def rebuild_downstream(node: Node, full_refresh: bool = False) -> RunRequest:
    return RunRequest("build", node.name + "+", full_refresh, label=f"rebuild {node.name}+")


def test(node: Node) -> RunRequest:
    return RunRequest("test", node.name, label=f"test {node.name}")


def modified(state_dir: Path, full_refresh: bool = False) -> RunRequest:
    return RunRequest("build", "state:modified+", full_refresh, str(state_dir), label="rebuild modified")


def rebuild_changed(names: list[str], full_refresh: bool = False) -> RunRequest:
    """Watch mode: the edited models and everything downstream of them."""
    select = " ".join(sorted(f"{name}+" for name in names))
    return RunRequest("build", select, full_refresh, label="watch: " + ", ".join(sorted(names)))


def _command_for(node: Node) -> str:
    # `build -s model` also runs the model's tests: what "rebuild" means to a dbt user.
    return "test" if node.resource_type == "test" else "build"


def has_state(state_dir: Path) -> bool:
    return (Path(state_dir) / "manifest.json").is_file()


def save_state(target_path: Path, state_dir: Path) -> bool:
    """Copy the manifest of a successful run into the state dir (atomically); False if none."""
    source = Path(target_path) / "manifest.json"
    if not source.is_file():
        return False
    state_dir = Path(state_dir)
    state_dir.mkdir(parents=True, exist_ok=True)
    tmp = state_dir / "manifest.json.tmp"
    shutil.copyfile(source, tmp)
    os.replace(tmp, state_dir / "manifest.json")
    return True
