"""The persistent dbt worker process: round trip, protocol-only stdout, cancel, busy, crash and restart."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from tiny_dbt import SLOW_SQL, TINY_ROWS, make_tiny_dbt_project
from tui.core.run_events import NodeFinished, NodeStarted, RunStarted
from tui.core.history import HistoryStore
from tui.core.dbt_host.session import SessionBusy
from tui.core.dbt_host.worker import WorkerClient, WorkerError
from tui.core.workspace import Workspace


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """A started worker on a tiny project with a slow model (excluded unless asked for)."""
    root = tmp_path_factory.mktemp("worker")
    project = make_tiny_dbt_project(root / "project", {"models/slow.sql": SLOW_SQL})
    client = WorkerClient(Workspace.resolve(workspace=root / "ws", project_dir=project))
    client.start()
    client.wait_ready(timeout=120)
    yield client
    client.close()


def test_round_trip_streams_typed_events_and_returns_run_finished(client):
    events = []
    finished = client.run("build", exclude="slow", on_event=events.append)
    assert finished.status == "success", finished.error
    assert isinstance(events[0], RunStarted) and events[-1] == finished
    rows = {e.name: e.rows for e in events if isinstance(e, NodeFinished)}
    assert rows["fct_items"] == TINY_ROWS and rows["raw_items"] == TINY_ROWS
    assert client.workspace.manifest_path.is_file()
    assert client.workspace.worker_log.is_file()
    with HistoryStore(client.workspace.history_path) as store:  # the child records every run
        assert store.get_run(finished.run_id).status == "success"


def test_a_warm_rebuild_needs_no_parse_and_is_quick(client):
    client.run("build", exclude="slow")
    began = time.perf_counter()
    finished = client.run("run", select="fct_items")
    assert finished.status == "success"
    assert time.perf_counter() - began < 5  # warm: no dbt import, no parse (the bench measures it precisely)


def test_cancel_from_another_thread_and_busy_refusal(client):
    started = threading.Event()

    def on_event(event):
        if isinstance(event, NodeStarted) and event.name == "slow":
            started.set()

    result = {}
    runner = threading.Thread(target=lambda: result.setdefault("f", client.run("run", select="slow", on_event=on_event)))
    runner.start()
    assert started.wait(60)
    with pytest.raises(SessionBusy):
        client.run("run", select="fct_items")
    asked = time.monotonic()
    client.cancel()
    runner.join(30)
    assert not runner.is_alive() and time.monotonic() - asked < 5
    assert result["f"].status == "cancelled"
    assert client.run("run", select="fct_items").status == "success"


def test_a_killed_worker_interrupts_the_run_and_restarts(client):
    started = threading.Event()
    result = {}

    def on_event(event):
        if isinstance(event, NodeStarted):
            started.set()

    runner = threading.Thread(target=lambda: result.setdefault("f", client.run("run", select="slow", on_event=on_event)))
    runner.start()
    assert started.wait(60)
    os.kill(client._process.pid, signal.SIGKILL)
    runner.join(30)
    assert result["f"].status == "interrupted" and "worker" in result["f"].error
    restarts = client.restarts
    again = client.run("run", select="fct_items")
    assert again.status == "success", again.error
    assert client.restarts == restarts + 1


def test_unknown_command_ends_with_an_error_run_finished(client):
    events = []
    finished = client.run("explode", on_event=events.append)
    assert finished.status == "error" and "unknown command" in finished.error
    assert events == [finished]


def test_the_child_writes_only_protocol_lines_to_stdout(tmp_path):
    project = make_tiny_dbt_project(tmp_path / "project")
    ws = Workspace.resolve(workspace=tmp_path / "ws", project_dir=project).ensure_dirs()
    requests = json.dumps({"op": "run", "command": "build"}) + "\n"
    child = subprocess.Popen(
        [sys.executable, "-m", "tui.core.dbt_host.worker", "--root", str(ws.root), "--project-dir", str(project),
         "--profiles-dir", str(project)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child.stdin.write(requests)
    child.stdin.flush()
    lines = []
    for line in child.stdout:
        lines.append(json.loads(line))  # every line is JSON: nothing else reaches stdout
        if lines[-1]["type"] == "RunFinished":
            break
    child.stdin.close()
    child.wait(30)
    assert lines[0]["type"] == "Ready" and lines[0]["error"] is None
    assert lines[-1]["status"] == "success"


def test_a_broken_project_reports_one_line_at_start_and_recovers(tmp_path):
    project = make_tiny_dbt_project(tmp_path / "project", {"models/broken.sql": "select {{ ref('nope' }}"})
    client = WorkerClient(Workspace.resolve(workspace=tmp_path / "ws", project_dir=project))
    client.start()
    try:
        with pytest.raises(WorkerError, match="compilation error in models/broken.sql"):
            client.wait_ready(timeout=120)
        (project / "models" / "broken.sql").unlink()
        assert client.run("build").status == "success"
    finally:
        client.close()
