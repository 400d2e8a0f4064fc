"""Incident triage (key `i`): DESIGN.md's first-30-minute plan as a timed checklist.

Three phases and their steps on the left; the selected step's question, live progress, verdict and
result tables on the right with its notes; every finding so far below, fails first. Steps run their
queries in a thread worker (one at a time, queued); `enter` on a finding opens that model's detail.
The session (results, done marks, notes, timeline) is saved in the workspace after every change and
restored on reopen. All the checking is in `tui.core.checks`; this screen only shows it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, OptionList, Static, TextArea

from tui.core.checks.engine import StepResult, run_step, save_facts
from tui.core.checks.incident import SESSION_FILE, IncidentSession
from tui.core.checks.playbook import Playbook, load_playbook
from tui.widgets.triage_causes import CausesList
from tui.widgets.triage_findings import FindingsTable
from tui.widgets.triage_result import StepView
from tui.widgets.triage_steps import StepList


class TriageScreen(Screen):
    HIDES_RUN_KEYS = True  # the footer is for the triage's own keys (esc, then b, builds)
    DEFAULT_CSS = """
    TriageScreen #triage-header { height: 1; padding: 0 1; background: $panel; }
    TriageScreen #triage-top { height: 2fr; }
    TriageScreen #triage-steps { width: 38%; max-width: 52; min-width: 28; height: 1fr; border: round $primary 40%; }
    TriageScreen #triage-right { width: 1fr; }
    TriageScreen #triage-result-scroll { height: 1fr; border: round $primary 40%; padding: 0 1; }
    TriageScreen #triage-notes { height: 6; border: round $primary 40%; }
    TriageScreen #triage-findings { height: 1fr; border: round $primary 40%; display: none; }
    TriageScreen #triage-causes { height: 1fr; border: round $primary 40%; }
    TriageScreen.findings #triage-findings { display: block; }
    TriageScreen.findings #triage-causes { display: none; }
    TriageScreen #triage-steps:focus, TriageScreen #triage-notes:focus, TriageScreen #triage-findings:focus,
    TriageScreen #triage-causes:focus { border: round $accent; }
    """
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the Run screen; from the notes, leave the notes."),
        Binding("a", "run_all", "Run all", tooltip="Run every step's queries, in order; verdicts appear as each ends."),
        Binding("d", "toggle_done", "Done", tooltip="Mark the selected step done, or not done."),
        Binding("n", "notes", "Notes", tooltip="Write notes on the selected step (they go into the report)."),
        Binding("c", "causes", "Causes", tooltip="Show the likely causes, most likely first (enter opens one)."),
        Binding("f", "findings", "Findings", tooltip="Show every finding, fails first (enter: its model's detail)."),
        Binding("e", "export", "Export", tooltip="Export the report as Markdown into the workspace's triage/ folder."),
        Binding("x", "cancel", "Cancel", tooltip="Cancel the running step."),
        Binding("ctrl+n", "new_session", "New triage", show=False,
                tooltip="Start a new triage on the latest run (the earlier one stays in the report history)."),
    ]

    class StepProgress(Message):
        def __init__(self, step_id: str, text: str) -> None:
            super().__init__()
            self.step_id, self.text = step_id, text

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, TriageScreen.StepProgress) and message.step_id == self.step_id

    class StepDone(Message):
        def __init__(self, result: StepResult) -> None:
            super().__init__()
            self.result = result

    def __init__(self, workspace: Any):
        super().__init__()
        self.workspace = workspace
        self.playbook: Playbook | None = None
        self.session: IncidentSession | None = None
        self.queue: list[str] = []
        self.running: str | None = None
        self.progress: dict[str, str] = {}
        self._ctx: Any = None
        self._notes_dirty: str | None = None
        self.exported: Path | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="triage-header")
        with Horizontal(id="triage-top"):
            yield StepList(id="triage-steps")
            with Vertical(id="triage-right"):
                with VerticalScroll(id="triage-result-scroll"):
                    yield StepView(id="triage-result")
                yield TextArea(id="triage-notes")
        yield CausesList(id="triage-causes")
        yield FindingsTable(id="triage-findings")
        yield Footer(show_command_palette=False)  # at 80 columns the keys need the line; `?` lists ctrl+p

    # --- lifecycle --------------------------------------------------------------------------
    def on_mount(self) -> None:
        from tui.core.checks.config import ChecksConfig

        self.playbook = load_playbook(ChecksConfig.load())
        latest, baseline = self._run_ids()
        self.session = IncidentSession.load(self.session_path) if self.session_path else None
        if self.session is not None and latest and self.session.latest_run_id != latest:
            self._archive(self.session, latest)  # a newer build: triage it; the old session stays a report
            self.session = None
        if self.session is None:
            self.session = self._new_session(latest, baseline)
        self.query_one("#triage-notes", TextArea).border_title = "notes"
        self.query_one("#triage-findings", FindingsTable).border_title = "findings (enter: model detail, c: causes)"
        self.query_one("#triage-causes", CausesList).border_title = "likely causes, most likely first (enter: open, f: findings)"
        self.query_one(StepList).select_step(self.session.selected_step)
        self.redraw()
        self.set_interval(1.0, self._tick)
        self.query_one(StepList).focus()

    def on_unmount(self) -> None:
        self._flush_notes()
        ctx, self._ctx = self._ctx, None
        if ctx is not None:
            ctx.cancelled.set()
            ctx.runner.interrupt()
            save_facts(ctx)  # this run's profiles become a baseline for later runs
            ctx.release()
            if ctx.history is not None:
                ctx.history.close()

    @property
    def session_path(self) -> Path | None:
        return Path(self.workspace.root) / SESSION_FILE if self.workspace is not None else None

    def _run_ids(self) -> tuple[str | None, str | None]:
        """The latest run in history and the baseline chosen for it (None, None without history)."""
        try:
            from tui.core.checks.baseline import choose_baseline, latest_run
            from tui.core.history import HistoryStore

            if self.workspace is not None and Path(self.workspace.history_path).exists():
                with HistoryStore(self.workspace.history_path) as store:
                    run = latest_run(store)
                    return getattr(run, "run_id", None), choose_baseline(store, run).run_id
        except Exception as error:  # noqa: BLE001 - a broken history only loses the run ids
            self.notify(f"run history unavailable: {str(error).splitlines()[0]}", severity="warning")
        return None, None

    def _new_session(self, latest: str | None, baseline: str | None) -> IncidentSession:
        session = IncidentSession.start(self.session_path or Path("triage-session.json"), self.playbook, latest, baseline)
        self._persist(session)
        return session

    def _archive(self, old: IncidentSession, latest: str) -> None:
        """Keep a triage of an older run as a report in triage/ (when it holds any result or note)."""
        if not any(s.result or s.notes for s in old.steps.values()):
            return
        path = self._write_report(old)
        if path is not None:
            self.notify(f"new triage on the latest run {short(latest)}; the one on {short(old.latest_run_id)} "
                        f"is in {path.name}")

    def _write_report(self, session: IncidentSession) -> Path | None:
        from tui.core.checks.report import write_reports

        folder = (Path(self.workspace.root) if self.workspace is not None else Path.cwd()) / "triage"
        stem = session.report_stem(folder)
        try:
            write_reports(session, self.playbook, folder / f"{stem}.md", folder / f"{stem}.json", self._lineage())
        except OSError as error:
            self.notify(f"report not written: {error}", severity="error")
            return None
        return folder / f"{stem}.md"

    def _persist(self, session: IncidentSession | None = None) -> None:
        session = session or self.session
        if session is not None and self.session_path is not None:
            try:
                session.save()
            except OSError as error:
                self.notify(f"triage session not saved: {error}", severity="error")

    # --- drawing ----------------------------------------------------------------------------
    def redraw(self) -> None:
        running = {self.running} if self.running else set()
        self.query_one(StepList).show(self.playbook, self.session, running | set(self.queue))
        findings = self.session.findings()
        self.query_one(FindingsTable).show(findings)
        self.query_one(CausesList).show(self.causes(findings))
        self._show_step()
        self._tick()

    def _show_step(self) -> None:
        step_id = self.query_one(StepList).step_id
        if step_id is None:
            return
        state = self.session.state(step_id)
        progress = self.progress.get(step_id) if step_id in (self.running, *self.queue) else None
        if step_id in self.queue and progress is None:
            progress = "queued"
        self.query_one(StepView).show(self.playbook.step(step_id), state.result, progress)
        notes = self.query_one("#triage-notes", TextArea)
        if notes.text != state.notes:
            notes.load_text(state.notes)
        notes.border_title = f"notes: {self.playbook.step(step_id).title}"

    def _tick(self) -> None:
        elapsed = self.session.elapsed()
        budget = self.playbook.minutes * 60
        clock = f"{int(elapsed // 60):02d}:{int(elapsed % 60):02d} / {self.playbook.minutes:02d}:00"
        done = sum(1 for s in self.playbook.steps if self.session.state(s.id).done)
        state = f"running {self.running}" if self.running else "idle"
        over = " [b red]over time[/]" if elapsed > budget else ""
        self.query_one("#triage-header", Static).update(
            f"[b]Triage[/] run {short(self.session.latest_run_id)} vs baseline {short(self.session.baseline_run_id)}"
            f"  ·  {clock}{over}  ·  {done}/{len(self.playbook.steps)} steps done  ·  {state}")

    # --- events -----------------------------------------------------------------------------
    @on(OptionList.OptionHighlighted, "#triage-steps")
    def _highlighted(self) -> None:
        self._flush_notes()
        self.session.selected_step = self.query_one(StepList).step_id
        self._show_step()

    @on(OptionList.OptionSelected, "#triage-steps")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.run_steps([event.option.id])

    @on(DataTable.RowSelected, "#triage-findings")
    def _open_finding(self) -> None:
        finding = self.query_one(FindingsTable).selected
        if finding is not None:
            self.open_detail(finding.object)

    @on(OptionList.OptionSelected, "#triage-causes")
    def _open_cause(self) -> None:
        cause = self.query_one(CausesList).selected
        if cause is None:
            return
        from tui.screens.triage_cause import CauseScreen, queries_for

        queries = [q for s in self.session.steps.values() if s.result for q in s.result.queries]
        self.app.push_screen(CauseScreen(cause, queries_for(cause, queries), self.open_first_detail))

    def causes(self, findings: list) -> list:
        from tui.core.checks.causes import build_causes

        return build_causes(findings, self._lineage())

    def _lineage(self) -> Any:
        from tui.core.checks.lineage import Lineage

        project = getattr(getattr(self.app, "cockpit", None), "project", None)
        return Lineage.from_project(project) if project is not None else None

    @on(TextArea.Changed, "#triage-notes")
    def _notes_changed(self, event: TextArea.Changed) -> None:
        step_id = self.query_one(StepList).step_id
        if step_id and event.text_area.text != self.session.state(step_id).notes:
            self.session.state(step_id).notes = event.text_area.text
            self._notes_dirty = step_id
            self.set_timer(0.5, self._flush_notes, name="save-notes")

    def on_triage_screen_step_progress(self, message: StepProgress) -> None:
        self.progress[message.step_id] = message.text
        if self.query_one(StepList).step_id == message.step_id:
            self._show_step()

    def on_triage_screen_step_done(self, message: StepDone) -> None:
        self.session.record(message.result)
        self.progress.pop(message.result.step, None)
        self.running = None
        self._persist()
        self.redraw()
        self._next()

    # --- running steps ----------------------------------------------------------------------
    def run_steps(self, step_ids: list[str]) -> None:
        for step_id in step_ids:
            if step_id != self.running and step_id not in self.queue:
                self.queue.append(step_id)
        self._next()
        self.redraw()

    def _next(self) -> None:
        if self.running or not self.queue:
            return
        self.running = self.queue.pop(0)
        self.session.log(f"step {self.running} started")
        self.run_worker(lambda step_id=self.running: self._work(step_id), thread=True, group="triage",
                        exit_on_error=False, name=f"triage-{self.running}")

    def _work(self, step_id: str) -> None:
        """Thread: run one step's queries; only messages go back to the UI."""
        started = time.time()
        try:
            ctx = self._checks()
            ctx.cancelled.clear()
            ctx.progress = lambda text, fraction: self.post_message(self.StepProgress(step_id, text))
            try:
                result = run_step(ctx, self.playbook.step(step_id))
            finally:
                ctx.release()  # never hold the warehouse between steps: builds must be able to run
        except Exception as error:  # noqa: BLE001 - shown as the step's verdict, never a traceback
            line = (str(error).splitlines() or [type(error).__name__])[0]
            result = StepResult(step_id, "error", line, (), started_at=started, seconds=time.time() - started, error=line)
        self.post_message(self.StepDone(result))

    def _checks(self) -> Any:
        if self._ctx is None:
            from tui.core.checks.triage import TriageError, open_for

            if self.workspace is None:
                raise RuntimeError("no workspace: open the cockpit on a project to triage it")
            try:
                self._ctx = open_for(self.workspace, self.session.baseline_run_id)
            except TriageError:
                self._ctx = open_for(self.workspace)  # that baseline's facts are gone: choose again
            self._ctx.findings.extend(self.session.findings())  # later steps read earlier findings
        else:
            self._ctx.hold()
        return self._ctx

    # --- actions ----------------------------------------------------------------------------
    def action_run_all(self) -> None:
        self.run_steps([s.id for s in self.playbook.steps if self.session.state(s.id).result is None]
                       or [s.id for s in self.playbook.steps])

    def action_toggle_done(self) -> None:
        step_id = self.query_one(StepList).step_id
        if step_id:
            self.session.mark_done(step_id, not self.session.state(step_id).done)
            self._persist()
            self.redraw()

    def action_notes(self) -> None:
        self.query_one("#triage-notes", TextArea).focus()

    def action_findings(self) -> None:
        self.add_class("findings")
        self.query_one(FindingsTable).focus()

    def action_causes(self) -> None:
        self.remove_class("findings")
        self.query_one(CausesList).focus()

    def action_back(self) -> None:
        """From the notes, back to the steps (the notes are saved); from anywhere else, back to the
        cockpit. `tab` moves between the panels."""
        notes = self.query_one("#triage-notes", TextArea)
        if notes.has_focus:
            self._flush_notes()
            self.query_one(StepList).focus()
            return
        self._persist()  # the selected step is kept for the next visit
        self.app.pop_screen()

    def action_cancel(self) -> None:
        if self.running and self._ctx is not None:
            self.queue.clear()
            self._ctx.cancelled.set()
            self._ctx.runner.interrupt()
            self.notify(f"cancelling {self.running}…")

    def action_new_session(self) -> None:
        if self.running:
            self.notify("a step is running: cancel it first (x)", severity="warning")
            return
        self.session = self._new_session(*self._run_ids())
        self.redraw()

    def action_export(self) -> None:
        self._flush_notes()
        path = self._write_report(self.session)
        if path is None:
            return
        if self._ctx is not None:
            save_facts(self._ctx)
        self.session.log(f"report exported to {path.name}")
        self._persist()
        self.exported = path
        self.notify(f"report written: {path}")

    def _flush_notes(self) -> None:
        """Persist typed notes (once per pause in typing, not per key)."""
        step_id, self._notes_dirty = self._notes_dirty, None
        if step_id and self.session is not None:
            self.session.log(f"notes updated on step {step_id}")
            self._persist()

    def open_first_detail(self, object_names: list[str]) -> None:
        """The detail of the first of these objects that is a model of the project."""
        project = getattr(getattr(self.app, "cockpit", None), "project", None)
        view = getattr(self.app, "view", None)
        for name in object_names:
            node = project.find(name) if project is not None else None
            if node is not None and view is not None and node.unique_id in view.nodes:
                return self.open_detail(name)
        self.notify("no model detail for this cause (it sits on a source)", severity="warning")

    def open_detail(self, object_name: str) -> None:
        project = getattr(getattr(self.app, "cockpit", None), "project", None)
        node = project.find(object_name) if project is not None else None
        view = getattr(self.app, "view", None)
        if node is None or view is None or node.unique_id not in view.nodes:
            self.notify(f"{object_name} has no model detail (a source, or not in this project)", severity="warning")
            return
        from tui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(node.unique_id))


def short(run_id: str | None) -> str:
    return run_id[:8] if run_id else "—"
