"""The cockpit's rollback: shows what restoring the last good run would change, asks, then restores.

A modal screen handed the workspace. The plan and the restore run in thread workers (they read and
copy the warehouse file); the screen dismisses with True once the warehouse was restored.
Keys: y restores, n or esc closes without changing anything.
"""

from __future__ import annotations

import time
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

SHOWN = 12


class RollbackScreen(ModalScreen[bool]):
    BINDINGS = [Binding("y", "restore", "Restore", tooltip="Restore the warehouse to that run, all of it or none."),
                Binding("n,escape", "close", "Close", key_display="n esc", tooltip="Close without changing anything.")]

    def __init__(self, workspace: Any, to: str | None = None):
        super().__init__()
        self.workspace = workspace
        self.to = to
        self.plan: Any = None
        self.state = "planning"  # planning, asking, restoring, done, refused

    def compose(self) -> ComposeResult:
        with Vertical(id="rollback"):
            yield Static("[b]Roll back the warehouse[/b]", id="rollback-title")
            yield Static("looking for the last good run…", id="rollback-body")
            yield Static("", id="rollback-keys")

    def on_mount(self) -> None:
        self.run_worker(self._plan, thread=True, group="rollback", exit_on_error=False)

    def _say(self, body: Any, keys: str, state: str) -> None:
        self.state = state
        self.query_one("#rollback-body", Static).update(body)
        self.query_one("#rollback-keys", Static).update(keys)

    def _plan(self) -> None:
        from tui.core.rollback import RollbackError, plan_rollback

        try:
            if self.workspace is None:
                raise RollbackError("no workspace: open the cockpit with `pipeline-tui`")
            plan = plan_rollback(self.workspace, self.to)
        except Exception as error:  # noqa: BLE001 - one line on the screen, never a crash
            line = str(error).splitlines()[0] if isinstance(error, RollbackError) else f"cannot roll back: {error}"
            self.app.call_from_thread(self._say, Text(line, style="red"), "esc closes", "refused")
            return
        self.app.call_from_thread(self._ask, plan)

    def _ask(self, plan: Any) -> None:
        self.plan = plan
        target = plan.target
        lines = [f"restore run {target.run_id[:8]} ({target.command}, "
                 f"{time.strftime('%Y-%m-%d %H:%M', time.localtime(target.started_at))}), "
                 f"undoing {len(plan.later_runs)} later runs:"]
        for change in plan.changes[:SHOWN]:
            lines.append(f"  {change.change:<10} {change.relation}")
        if len(plan.changes) > SHOWN:
            lines.append(f"  … and {len(plan.changes) - SHOWN} more")
        lines.append(f"warehouse {plan.warehouse_bytes / 1e6:,.1f} MB; checkpoints use "
                     f"{plan.retained_bytes / 1e6:,.1f} MB of disk")
        self._say(Text("\n".join(lines)), f"y restores these {len(plan.changes)} relations · n or esc: keep things as they are",
                  "asking")

    def action_restore(self) -> None:
        if self.state != "asking":
            return
        self._say("restoring… (all or nothing)", "", "restoring")
        self.run_worker(self._restore, thread=True, group="rollback", exit_on_error=False)

    def _restore(self) -> None:
        from tui.core.rollback import RollbackError, apply_rollback

        try:
            result = apply_rollback(self.workspace, self.plan)
        except RollbackError as error:
            self.app.call_from_thread(self._say, Text(str(error), style="red"), "esc closes", "refused")
            return
        except Exception as error:  # noqa: BLE001 - one line, and the screen can still close
            line = (str(error).splitlines() or [type(error).__name__])[0]
            self.app.call_from_thread(self._say, Text(f"rollback failed: {line}", style="red"), "esc closes", "refused")
            return
        self.app.call_from_thread(self._done, result)

    def _done(self, result: Any) -> None:
        self.state = "done"
        self.app.notify(f"rolled back to run {result.target_run_id[:8]}: {len(result.changes)} relations restored")
        self.dismiss(True)

    def action_close(self) -> None:
        if self.state != "restoring":  # a restore in flight finishes first (it is atomic, and quick)
            self.dismiss(False)
