"""A stand-in dbt client: each request runs the `dbt` CLI as a subprocess with JSON logs.

Provides `CliWorkerClient` with the interface of the persistent worker (`start`, `wait_ready`,
`run`, `cancel`, `close`), turning dbt's info-level JSON log lines into `tui.core.events`.
It is cold (dbt imports and parses on every request, ~3 s) and reports no row counts: the
cockpit uses it only when the warm worker (`tui.core.worker`) is not available.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from tui.core.events import LogLine, NodeFinished, NodesPlanned, NodeStarted, RunFinished, RunStarted

RESULT_EVENTS = {"LogModelResult", "LogTestResult", "LogSeedResult", "LogSnapshotResult", "LogNodeResult"}
STATUS_ALIASES = {"ok": "success", "created": "success", "insert": "success"}


def _ts(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc).timestamp()


class CliWorkerClient:
    def __init__(self, project_dir: Path, profiles_dir: Path, target_path: Path, env: dict[str, str] | None = None,
                 history_path: Path | None = None, target: str | None = None):
        self.project_dir, self.profiles_dir, self.target_path = project_dir, profiles_dir, target_path
        self.target = target
        self.env = {**os.environ, "DO_NOT_TRACK": "1", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", **(env or {})}
        self.history_path = history_path
        self._store = None
        self._process: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._cancelled = False

    def start(self) -> None:
        pass

    def wait_ready(self, timeout: float | None = None) -> None:
        pass

    def run(self, command: str, select: str | None = None, full_refresh: bool = False, vars: dict | None = None,
            state: str | None = None, on_event: Callable = lambda e: None) -> RunFinished:
        run_id = f"cli-{time.time():.3f}"
        started = time.time()
        on_event = self._recording(on_event)
        on_event(RunStarted(run_id, command, select, None, started, full_refresh))
        args = self._args(command, select, full_refresh, vars, state)
        self._cancelled = False
        with self._lock:
            self._process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                             env=self.env, cwd=self.project_dir)
        error = None
        for line in self._process.stdout:
            error = self._emit(run_id, line, on_event) or error
        code = self._process.wait()
        status = "cancelled" if self._cancelled else "success" if code == 0 else "error"
        error = None if code in (0, 1) or self._cancelled else error
        finished = RunFinished(run_id, status, time.time(), time.time() - started, error)
        on_event(finished)
        return finished

    def _recording(self, on_event: Callable) -> Callable:
        if self.history_path is None:
            return on_event
        from tui.core.history import HistoryRecorder, HistoryStore

        if self._store is None:
            self._store = HistoryStore(self.history_path)
        recorder = HistoryRecorder(self._store)

        def emit(event) -> None:
            recorder(event)
            on_event(event)

        return emit

    def _args(self, command, select, full_refresh, vars, state) -> list[str]:
        dbt = str(Path(sys.executable).with_name("dbt"))
        args = [dbt, "--log-format", "json", *command.split(), "--project-dir", str(self.project_dir),
                "--profiles-dir", str(self.profiles_dir), "--target-path", str(self.target_path),
                "--log-path", str(self.target_path.parent / "logs")]
        if self.target:
            args += ["--target", self.target]
        if select:
            args += ["--select", *select.split()]
        if full_refresh:
            args.append("--full-refresh")
        if state:
            args += ["--state", state]
        if vars:
            args += ["--vars", json.dumps(vars)]
        return args

    def _emit(self, run_id: str, line: str, on_event: Callable) -> str | None:
        try:
            record = json.loads(line)
        except ValueError:
            return line.strip() or None
        info, data = record.get("info", {}), record.get("data", {})
        name, node = info.get("name"), data.get("node_info") or {}
        if name == "ConcurrencyLine":
            on_event(NodesPlanned(run_id, int(data.get("node_count", 0))))
        elif name == "LogStartLine" and node:
            on_event(NodeStarted(run_id, node["unique_id"], node["node_name"], node["resource_type"],
                                 node.get("materialized"), info.get("thread"), _ts(node.get("node_started_at")) or time.time(),
                                 data.get("index")))
        elif name in RESULT_EVENTS and node:
            raw = str(data.get("status") or node.get("node_status") or "success").lower()
            status = STATUS_ALIASES.get(raw, raw)
            on_event(NodeFinished(run_id, node["unique_id"], node["node_name"], node["resource_type"], status,
                                  _ts(node.get("node_started_at")), _ts(node.get("node_finished_at")) or time.time(),
                                  None, data.get("execution_time"), info.get("thread"), info.get("msg")))
        if info.get("msg"):
            on_event(LogLine(run_id, info.get("level", "info"), info["msg"]))
        return info["msg"] if info.get("level") == "error" else None

    def cancel(self) -> None:
        """SIGINT (dbt cleans up); a query that ignores it is killed 0.2 s later (DuckDB is crash-safe)."""
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                return
            self._cancelled = True
            process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            process.kill()

    def close(self) -> None:
        self.cancel()
        if self._store is not None:
            self._store.close()
