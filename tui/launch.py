"""Builds the cockpit app for a workspace: paths, history, the dbt client and first-start set-up.

`build_app(workspace)` is what `pipeline-tui` (no command) calls. Nothing here imports dbt: the
client factory runs in a thread after the first frame, and the client keeps dbt in its own process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from tui.app import PipelineApp
from tui.core.cockpit import Cockpit, CockpitPaths, store_history
from tui.core.workspace import Workspace

Progress = Callable[[str, float | None], None]


def cockpit_for(workspace: Workspace) -> Cockpit:
    """The warehouse is set after the first frame (`startup_checks`): reading the profile renders Jinja."""
    paths = CockpitPaths(workspace.project_dir, workspace.target_path, None, workspace.root / "state")
    points, runs = store_history(workspace.history_path)
    return Cockpit(paths, history=points, runs=runs)


def client_factory(workspace: Workspace) -> Callable[[], Any]:
    """The persistent warm dbt worker process; built in a thread after the first frame."""

    def make_client() -> Any:
        from tui.core.dbt_host.worker import WorkerClient

        # Views are counted too: staging row counts are what shows a fan-out or a lost feed.
        return WorkerClient(workspace, count_views=True)

    return make_client


def setup_for(workspace: Workspace, demo_size: str = "demo") -> Callable[[Progress], bool] | None:
    """The embedded demo without raw data: generate it. True (build now) only on its true first
    start, with no warehouse either; any other start opens on the history it has (`b` builds)."""
    if not workspace.embedded or workspace.has_raw_data():
        return None

    def setup(progress: Progress) -> bool:
        from tui.core.workspace import ensure_demo_data

        first_start = not workspace.has_warehouse()
        ensure_demo_data(workspace, progress, size=demo_size)
        return first_start

    return setup


def build_app(workspace: Workspace, app_class: type[PipelineApp] = PipelineApp,
              demo_size: str = "demo") -> PipelineApp:
    workspace.ensure_dirs()
    app = app_class(cockpit_for(workspace), make_client=client_factory(workspace),
                    setup=setup_for(workspace, demo_size), workspace=workspace)
    app.header_info.target = workspace.target or ""  # else read from the profile after the first frame
    app.after_first_frame.append(lambda: startup_checks(app, workspace))
    return app


def startup_checks(app: PipelineApp, workspace: Workspace) -> None:
    """After the first frame, before the project loads: the profile's target and warehouse (reading
    YAML, rendering Jinja) and the history file (a broken one is moved aside before any loader reads it)."""
    from dataclasses import replace

    from tui.core.history import open_notice

    target = workspace.profile_target()
    app.header_info.target = target.name or workspace.target or "default"
    app.header_info.warehouse = target.label
    app.cockpit.paths = replace(app.cockpit.paths, warehouse=target.warehouse)
    if target.error:
        app.startup_notices.append(target.error)
    notice = open_notice(workspace.history_path)
    if notice:
        app.startup_notices.append(notice)


def run_from_cli(ctx: Any) -> None:
    """`pipeline-tui` with no command: resolve the workspace from the global options and open the app."""
    import sys

    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        print(ctx.get_help())
        print("\nThe cockpit needs a terminal: run `pipeline-tui` in one, or use a command above.", file=sys.stderr)
        return
    open_cockpit({**(ctx.params or {}), **(ctx.obj if isinstance(ctx.obj, dict) else {})})


def open_cockpit(options: dict[str, Any]) -> None:
    """Resolve the workspace from the global options (names as `Workspace.resolve` takes them) and run the app."""
    import sys

    from tui.core.workspace import WorkspaceError

    try:
        workspace = Workspace.resolve(workspace=options.get("workspace"), project_dir=options.get("project_dir"),
                                      profiles_dir=options.get("profiles_dir"), target=options.get("target"))
    except WorkspaceError as error:
        print(f"pipeline-tui: {error}", file=sys.stderr)
        raise SystemExit(2) from None
    build_app(workspace).run()


def dev_workspace(project_dir: Path, root: Path | None = None) -> Workspace:
    """A workspace for any dbt project dir whose profiles.yml sits beside it (tests, benchmarks)."""
    return Workspace.resolve(workspace=root or project_dir / ".pipeline-tui", project_dir=project_dir,
                             profiles_dir=project_dir)
