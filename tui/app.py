"""The Textual app: screens, keys and routing between the worker bridge, the cockpit state and screens.

The app owns one `Cockpit` (UI-free state) and one `DbtBridge` (the dbt worker process). Keys
become cockpit requests sent through the bridge; the bridge's events come back as merged
messages, are folded into the run view, and screens redraw from signals. dbt is never
imported in this process, so the first frame does not wait for it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen
from textual.signal import Signal

from tui.bridge import DbtBridge, one_line
from tui.core.cockpit import Cockpit
from tui.core.project import ManifestMissing
from tui.messages import DbtFailed, DbtReady, RunDone, RunEventsPending, SetupDone, SetupProgress
from tui.screens.run import RunScreen
from tui.widgets.header import HeaderInfo

WATCH_POLL_S = 1.0
LIGHT, DARK = "textual-light", "textual-dark"


def _timeline_screen() -> Screen:
    from tui.screens.timeline import TimelineScreen  # plotting and charts load on first visit

    return TimelineScreen()


def _trends_screen() -> Screen:
    from tui.screens.trends import TrendsScreen

    return TrendsScreen()


RUN_ACTIONS = {"build", "rebuild", "downstream", "test", "cancel", "modified", "toggle_watch", "toggle_full_refresh"}


class PipelineApp(App):
    TITLE = "pipeline-tui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it too
    MODES = {"run": RunScreen, "timeline": _timeline_screen, "trends": _trends_screen}
    DEFAULT_MODE = "run"  # the run screen is composed with the app: no mode switch (and CSS pass) at start
    BINDINGS = [
        Binding("b", "build", "Build", tooltip="Build the whole project: models, tests, seeds and snapshots."),
        Binding("r", "rebuild", "Rebuild", tooltip="Rebuild the selected node with its tests (build -s node)."),
        Binding("R", "downstream", "Downstream", key_display="R",
                tooltip="Rebuild the selected node and everything downstream of it (build -s node+)."),
        Binding("t", "test", "Test", tooltip="Run the selected node's tests only."),
        Binding("c", "cancel", "Cancel", tooltip="Cancel the running invocation: nodes in flight stop, nothing new starts."),
        Binding("f", "toggle_full_refresh", "Full refresh", show=False,
                tooltip="Toggle --full-refresh for the next runs (the header shows FULL-REFRESH)."),
        Binding("m", "modified", "Modified+", show=False,
                tooltip="Rebuild what changed since the last successful run, and its children (state:modified+)."),
        Binding("w", "toggle_watch", "Watch", show=False,
                tooltip="Watch mode: saving a model file rebuilds it and its children."),
        Binding("i", "triage", "Triage", show=False,
                tooltip="Open the incident triage: the first-30-minute plan with live queries."),
        Binding("u", "rollback", "Roll back to the last good run", show=False,
                tooltip="Roll the warehouse back to the last good run, after showing what changes."),
        Binding("D", "deprecations", "Deprecated models", show=False, key_display="D",
                tooltip="List the deprecated models: dates, replacements, who still refs or reads them."),
        Binding("1", "switch_mode('run')", "Run", show=False, tooltip="The Run screen: every node of the project."),
        Binding("2", "switch_mode('timeline')", "Timeline", show=False,
                tooltip="The Timeline: a bar per node of the current or last run, by thread."),
        Binding("3", "switch_mode('trends')", "Trends", show=False,
                tooltip="Trends: run time and cost per full build, the selected model's history, regressions."),
        Binding("T", "toggle_theme", "Light/dark", show=False, key_display="T", tooltip="Switch the light and dark theme."),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show every key of every screen."),
        Binding("q", "quit_app", "Quit", tooltip="Quit (asks first while a run is in progress)."),
    ]

    def __init__(self, cockpit: Cockpit, make_client: Callable[[], Any] | None = None,
                 setup: Callable[[Callable[[str, float | None], None]], bool] | None = None,
                 workspace: Any = None):
        super().__init__()
        self.cockpit = cockpit
        self.workspace = workspace
        self.bridge = DbtBridge(self, make_client) if make_client else None
        self._setup = setup
        self._build_after_ready = False
        self.selected_uid: str | None = None
        self.last_error: str | None = None
        self.startup_notices: list[str] = []  # shown once the first frame is up (e.g. history moved aside)
        self.after_first_frame: list[Callable[[], None]] = []  # launcher checks, run before the project loads
        self.started = False  # the first frame is up and the project was read (or found missing)
        self.header_info = HeaderInfo(project="loading…", warehouse=cockpit.paths.warehouse.name if cockpit.paths.warehouse else "",
                                      dbt_state="dbt loading…" if make_client else "dbt off")
        self.status_changed: Signal[None] = Signal(self, "status_changed")
        self.view_changed: Signal[set[str] | None] = Signal(self, "view_changed")
        self.log_written: Signal[list[str]] = Signal(self, "log_written")
        self.error_changed: Signal[str | None] = Signal(self, "error_changed")
        self.setup_progress: Signal[tuple[str, float | None]] = Signal(self, "setup_progress")

    # --- state the screens read -----------------------------------------------------------
    @property
    def view(self):
        return self.cockpit.view

    @property
    def labels(self) -> dict[str, str]:
        return self.cockpit.labels

    # --- start ----------------------------------------------------------------------------
    def on_mount(self) -> None:
        # Only the run screen's skeleton is drawn first: reading the manifest and the history, and
        # the launcher's checks, wait for the first frame (`_after_first_frame`).
        self.call_after_refresh(self._after_first_frame)

    def _after_first_frame(self) -> None:
        if isinstance(self.screen, RunScreen):
            self.screen.mount_the_rest()
        for step in self.after_first_frame:
            step()
        self._load_project(quiet=True)
        self.started = True
        for notice in self.startup_notices:
            self.notify(notice, severity="warning", timeout=15)
        # Spawning the worker (and its dbt import on the other core) must not compete with
        # painting the project either.
        self.call_after_refresh(self._start_background)

    def _start_background(self) -> None:
        if self._setup is not None:
            self.run_worker(self._run_setup, name="setup", thread=True, exit_on_error=False)
        elif self.bridge:
            self.bridge.start()

    def _run_setup(self) -> None:
        """Thread: generate demo data if the workspace has none (first start)."""
        try:
            generated = self._setup(lambda step, fraction=None: self.post_message(SetupProgress(step, fraction)))
            self._build_after_ready = bool(generated)
            self.post_message(SetupDone(None))
        except Exception as error:
            self.post_message(SetupDone(one_line(error)))

    def on_setup_progress(self, message: SetupProgress) -> None:
        self.setup_progress.publish((message.step, message.fraction))

    def on_setup_done(self, message: SetupDone) -> None:
        if message.error:
            self.show_error(f"could not generate the demo data: {message.error}")
        self.setup_progress.publish(("demo data ready; dbt loading…", 1.0))
        if self.bridge:
            self.bridge.start()

    def _load_project(self, quiet: bool = False) -> bool:
        try:
            self.cockpit.load()
        except ManifestMissing as error:
            self.header_info.project = ""
            self._refresh_header()
            self.setup_progress.publish(("no manifest yet: the project shows once dbt has parsed it", None))
            if not quiet:
                self.show_error(one_line(error))
            return False
        self.header_info.project = self.cockpit.project.project_name
        outcome = self.cockpit.view.last_run_outcome()
        if outcome is not None and self.header_info.last_run_at is None:
            self.header_info.last_run_status, self.header_info.last_run_at = outcome
        self._refresh_header()
        self.view_changed.publish(None)
        return True

    def on_dbt_ready(self, message: DbtReady) -> None:
        self.header_info.dbt_state = "dbt ready"
        build_now = self._build_after_ready  # only the demo's true first start builds by itself
        if self.cockpit.view is None or build_now:
            self._load_project(quiet=build_now)
        self._refresh_header()
        if build_now:
            self._build_after_ready = False
            self.action_build()

    def on_dbt_failed(self, message: DbtFailed) -> None:
        self.header_info.dbt_state = "dbt failed"
        self._refresh_header()
        self.show_error(f"{message.error} (fix it, then press b to build)")

    # --- runs -----------------------------------------------------------------------------
    def submit(self, action: str) -> None:
        if self.bridge is None or not self.bridge.ready:
            self.notify(self.bridge.failed if self.bridge and self.bridge.failed
                        else "dbt is still loading: try again in a moment", severity="warning")
            return
        if self.bridge.busy:
            self.notify("a run is in progress: c cancels it", severity="warning")
            return
        request = self.cockpit.request(action, self.selected_uid)
        if isinstance(request, str):
            self.notify(request, severity="warning")
            return
        self._start(request)

    def _start(self, request) -> None:
        self.show_error(None)
        if self.bridge.submit(request):
            self.header_info.dbt_state = f"dbt running {request.label}"
            self._refresh_header()

    def on_run_events_pending(self, message: RunEventsPending) -> None:
        batch = self.cockpit.apply(self.bridge.drain() if self.bridge else [])
        if batch.reloaded and self.cockpit.project:
            self.header_info.project = self.cockpit.project.project_name
            self._refresh_header()
        if batch.log:
            self.log_written.publish(batch.log)
        self.view_changed.publish(None if batch.reloaded else batch.changed)

    def on_run_done(self, message: RunDone) -> None:
        self.on_run_events_pending(RunEventsPending())
        self.cockpit.run_done(message.status)
        reloaded = self.cockpit.reload_if_changed()
        if self.cockpit.view is None:  # dbt could not parse the project at start; now it could
            reloaded = self._load_project(quiet=True)
        self.header_info.dbt_state = "dbt ready" if self.cockpit.view is not None else "dbt failed"
        self.header_info.last_run_status = "ok" if message.status == "success" else message.status
        self.header_info.last_run_at = time.time()
        self.header_info.warehouse_bytes = self.cockpit.warehouse_bytes()
        self._refresh_header()
        if message.status == "cancelled":  # the user's own doing: not an error
            self.notify("run cancelled; tables already built are intact (b builds again)")
        elif message.error:
            self.show_error(message.error)
        # Every node's row is up to date already: redraw them all only when the project changed shape
        # (a full redraw, about 10 ms for the demo's 155 nodes, would hold up the frame showing the end).
        self.view_changed.publish(None if reloaded else set())

    def show_error(self, error: str | None) -> None:
        self.last_error = error
        self.error_changed.publish(error)
        if error:
            self.notify(error, severity="error", timeout=8)

    def _refresh_header(self) -> None:
        self.header_info.full_refresh = self.cockpit.full_refresh
        self.header_info.watching = self.cockpit.watcher is not None
        if self.header_info.warehouse_bytes is None:
            self.header_info.warehouse_bytes = self.cockpit.warehouse_bytes()
        self.status_changed.publish(None)

    # --- actions --------------------------------------------------------------------------
    def action_build(self) -> None:
        self.submit("build")

    def action_rebuild(self) -> None:
        self.submit("rebuild")

    def action_downstream(self) -> None:
        self.submit("downstream")

    def action_test(self) -> None:
        self.submit("test")

    def action_modified(self) -> None:
        self.submit("modified")

    def action_cancel(self) -> None:
        if self.bridge and self.bridge.busy:
            if self.view is not None:
                self.view.cancel_requested_at = time.time()
            self.bridge.cancel()
            self.notify("cancelling…")
        else:
            self.notify("nothing is running")

    def action_toggle_full_refresh(self) -> None:
        self.cockpit.full_refresh = not self.cockpit.full_refresh
        self._refresh_header()
        self.notify(f"full refresh {'on' if self.cockpit.full_refresh else 'off'} for the next runs")

    def action_toggle_watch(self) -> None:
        watching = self.cockpit.toggle_watch()
        if watching:
            self._watch_timer = self.set_interval(WATCH_POLL_S, self._poll_watch)
        elif getattr(self, "_watch_timer", None):
            self._watch_timer.stop()
        self._refresh_header()
        self.notify("watch mode on: saving a model rebuilds it and its children" if watching else "watch mode off")

    def _poll_watch(self) -> None:
        if self.bridge is None or not self.bridge.ready or self.bridge.busy:
            return
        request = self.cockpit.watch_request()
        if request is not None:
            self._start(request)

    def action_detail(self) -> None:
        if self.selected_uid and self.cockpit.project:
            from tui.screens.detail import DetailScreen

            self.push_screen(DetailScreen(self.selected_uid))

    def action_triage(self) -> None:
        try:
            from tui.screens.triage import TriageScreen
        except ImportError:
            self.notify("triage not available yet", severity="warning")
            return
        self.push_screen(TriageScreen(self.workspace))

    def action_rollback(self) -> None:
        if self.bridge and self.bridge.busy:
            self.notify("a run is in progress: c cancels it, then roll back", severity="warning")
            return
        from tui.screens.rollback import RollbackScreen

        self.push_screen(RollbackScreen(self.workspace), lambda restored: restored and self._load_project(quiet=True))

    def action_deprecations(self) -> None:
        if self.cockpit.project is not None and self.workspace is not None:
            from tui.screens.deprecations import DeprecationsScreen

            self.push_screen(DeprecationsScreen(self.workspace, self.cockpit.project))

    def action_help(self) -> None:
        from tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def action_toggle_theme(self) -> None:
        self.theme = LIGHT if self.theme == DARK else DARK

    def action_quit_app(self) -> None:
        if self.bridge and self.bridge.busy:
            from tui.screens.confirm import ConfirmScreen

            self.push_screen(ConfirmScreen("A run is in progress. Cancel it and quit?"), self._quit_confirmed)
        else:
            self.exit()

    def _quit_confirmed(self, yes: bool | None) -> None:
        if yes:
            self.bridge.cancel()
            self.exit()

    def on_unmount(self) -> None:
        if self.bridge:
            self.bridge.close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """A screen with `HIDES_RUN_KEYS` (triage) keeps the footer for its own keys: the run keys are
        off there (esc, then b, builds)."""
        if action in RUN_ACTIONS and getattr(self.screen, "HIDES_RUN_KEYS", False):
            return False
        return True

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for binding in self.BINDINGS:
            key = binding.key_display or binding.key
            yield SystemCommand(f"{binding.description} ({key})", binding.tooltip or binding.description,
                                lambda action=binding.action: self.run_action(action))
