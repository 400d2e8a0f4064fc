"""Where things live: the dbt project, its profile, the warehouse, raw feeds, dbt's target/logs, history.

Provides `Workspace` (a frozen dataclass of resolved paths) and `Workspace.resolve(...)`, which
applies, in order: explicit options (CLI `--workspace`, `--project-dir`, `--profiles-dir`,
`--target`), environment (`PIPELINE_TUI_WORKSPACE`, `DBT_PROFILES_DIR`), then defaults.

Default root: `platformdirs.user_data_dir("pipeline-tui")` for the embedded project; for any
other dbt project, `<that root>/projects/<project name>-<hash of its path>` so each project keeps
its own target, logs and history. Layout of a root::

    warehouse.duckdb   raw/   target/   logs/   history.sqlite

dbt never writes into the package: `target_path` and `log_path` always point into the root.
The warehouse is what the profile's target points at (`profile_target()`, resolved as dbt does,
with a relative DuckDB `path` taken from the project folder, where dbt runs); the root's own
`warehouse.duckdb` (`demo_warehouse`) is only what the embedded profile points at, through
`PIPELINE_TUI_WAREHOUSE`.
`dbt_env()` gives the variables the embedded profile reads (`PIPELINE_TUI_WAREHOUSE`,
`PIPELINE_TUI_RAW_DIR`, `PIPELINE_TUI_THREADS`, `PIPELINE_TUI_MEMORY_LIMIT`); threads and memory
limit already set in the environment win, so a user can tune them without code.

Also: `ensure_demo_data(workspace, progress)` (first start: generate the demo raw feeds, never
imports dbt; True when the warehouse must then be built) and `git_revision(project_dir)`.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import platformdirs

if TYPE_CHECKING:
    from tui.core.profile_target import ProfileTarget

APP_NAME = "pipeline-tui"
WORKSPACE_ENV = "PIPELINE_TUI_WORKSPACE"
_PACKAGE_DIR = Path(__file__).resolve().parents[1]  # .../tui


Progress = Callable[[str, "float | None"], None]  # (message, fraction done or None)


class WorkspaceError(Exception):
    """A path the user gave does not hold what it should (message is one line for the user)."""


def embedded_project_dir() -> Path:
    """The embedded dbt project: inside an installed wheel, or `<repo>/dbt` in a source checkout."""
    for candidate in (_PACKAGE_DIR / "_bundled" / "dbt", _PACKAGE_DIR.parent / "dbt"):
        if (candidate / "dbt_project.yml").is_file():
            return candidate
    return _PACKAGE_DIR.parent / "dbt"


def default_root() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class Workspace:
    root: Path
    project_dir: Path
    profiles_dir: Path
    target: str | None  # dbt target name; None = the profile's default
    embedded: bool  # True when project_dir is the embedded demo project

    @property
    def demo_warehouse(self) -> Path:
        """The root's DuckDB file, which `PIPELINE_TUI_WAREHOUSE` names (the embedded profile's path)."""
        return self.root / "warehouse.duckdb"

    def profile_target(self) -> ProfileTarget:
        """The profile's target as dbt resolves it for this workspace (read now: edits count)."""
        from tui.core import profile_target

        return profile_target.resolve(self.project_dir, self.profiles_dir, self.target,
                                      {**os.environ, **self.dbt_env()})

    @property
    def warehouse(self) -> Path | None:
        """The DuckDB file the profile's target points at; None when it names none (see
        `profile_target().why_no_warehouse()`)."""
        return self.profile_target().warehouse

    @property
    def raw_dir(self) -> Path:
        return self.root / "raw"

    @property
    def target_path(self) -> Path:
        return self.root / "target"

    @property
    def log_path(self) -> Path:
        return self.root / "logs"

    @property
    def history_path(self) -> Path:
        return self.root / "history.sqlite"

    @property
    def manifest_path(self) -> Path:
        return self.target_path / "manifest.json"

    @property
    def worker_log(self) -> Path:
        return self.log_path / "worker.log"

    @classmethod
    def resolve(
        cls,
        workspace: Path | str | None = None,
        project_dir: Path | str | None = None,
        profiles_dir: Path | str | None = None,
        target: str | None = None,
    ) -> Workspace:
        """Resolve paths from options, then environment, then defaults (see the module docstring)."""
        project = _project_dir(project_dir)
        embedded = project == embedded_project_dir().resolve()
        root = _root(workspace, project, embedded)
        return cls(root, project, _profiles_dir(profiles_dir, project), target or None, embedded)

    def ensure_dirs(self) -> Workspace:
        for path in (self.root, self.raw_dir, self.target_path, self.log_path):
            path.mkdir(parents=True, exist_ok=True)
        return self

    def dbt_env(self) -> dict[str, str]:
        """Environment for the embedded profile. Paths always come from the workspace; threads and
        memory limit keep a value the user already set in the environment."""
        tuning = {
            "PIPELINE_TUI_THREADS": str(max(1, min(8, os.cpu_count() or 1))),
            "PIPELINE_TUI_MEMORY_LIMIT": "80%",
        }
        return {
            "PIPELINE_TUI_WAREHOUSE": str(self.demo_warehouse),
            "PIPELINE_TUI_RAW_DIR": str(self.raw_dir),
            **{key: os.environ.get(key) or value for key, value in tuning.items()},
        }

    def has_raw_data(self) -> bool:
        return self.raw_dir.is_dir() and any(self.raw_dir.iterdir())

    def has_warehouse(self) -> bool:
        """True when the target's DuckDB file exists (built at least once, or loaded by its team)."""
        warehouse = self.warehouse
        return warehouse is not None and warehouse.is_file()

    def has_data(self) -> bool:
        """True when raw feeds exist and the warehouse has been built at least once."""
        return self.has_warehouse() and self.has_raw_data()


def _project_dir(option: Path | str | None) -> Path:
    project = Path(option).expanduser() if option else embedded_project_dir()
    project = project.resolve()
    if not (project / "dbt_project.yml").is_file():
        if option:
            raise WorkspaceError(f"no dbt project at {project} (dbt_project.yml not found): check --project-dir")
        raise WorkspaceError(f"the embedded dbt project is missing at {project}: reinstall pipeline-tui")
    return project


def _profiles_dir(option: Path | str | None, project: Path) -> Path:
    chosen = option or os.environ.get("DBT_PROFILES_DIR")
    if chosen:
        path = Path(chosen).expanduser().resolve()
        if not (path / "profiles.yml").is_file():
            raise WorkspaceError(f"no profiles.yml in {path}: check --profiles-dir")
        return path
    if (project / "profiles.yml").is_file():
        return project
    return Path("~/.dbt").expanduser()


def _root(option: Path | str | None, project: Path, embedded: bool) -> Path:
    chosen = option or os.environ.get(WORKSPACE_ENV)
    if chosen:
        return Path(chosen).expanduser().resolve()
    if embedded:
        return default_root()
    digest = hashlib.sha1(str(project).encode()).hexdigest()[:8]
    return default_root() / "projects" / f"{project.name}-{digest}"


def git_revision(project_dir: Path) -> str | None:
    """The project's git revision (short hash, `+dirty` if edited), or None outside a repository."""
    import subprocess

    try:
        out = subprocess.run(["git", "-C", str(project_dir), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=2)
        if out.returncode != 0:
            return None
        dirty = subprocess.run(["git", "-C", str(project_dir), "status", "--porcelain", "--", "."],
                               capture_output=True, text=True, timeout=2).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def ensure_demo_data(workspace: Workspace, progress: Progress, *, size: str = "demo",
                     end_date: str | None = "today") -> bool:
    """First start: generate the demo raw feeds if the embedded project has none. Never imports dbt.

    The data ends `end_date` ("today", UTC, so `source freshness` passes on a new demo; None keeps
    the scenario's fixed historical dates).
    Returns True when the warehouse must now be built (data generated now, or never built):
    the caller builds it through its session or worker (`build`), so the TUI keeps dbt out of
    its own process. Does nothing (False) for a project other than the embedded one.
    """
    if not workspace.embedded:
        return False
    workspace.ensure_dirs()
    if not workspace.has_raw_data():
        from tui.core.generator import generate

        progress(f"first start: generating the {size} dataset in {workspace.raw_dir}…", 0.0)
        summary = generate(workspace.raw_dir, "baseline", size=size, end_date=end_date)
        progress(f"generated {summary.total_rows:,} raw rows in {summary.seconds:.1f} s", 1.0)
        return True
    return not workspace.has_warehouse()
