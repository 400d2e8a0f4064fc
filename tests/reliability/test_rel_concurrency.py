"""Many requests at once, and the run history under concurrent writers that get `kill -9`ed.

- 100 rebuild requests fired at once at the worker, and 100 run keys pressed in the cockpit: never
  two dbt invocations at the same time; the others are refused at once with a one-line message.
- Two writer processes and a reader on one history file, 10 `kill -9`s among the writers: no
  "database is locked", `integrity_check` ok, every acknowledged record present.
"""

from __future__ import annotations

import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest

from rel_helpers import history_runs, invoke, wait_for
from tiny_dbt import SLOWISH_SQL, make_tiny_dbt_project
from tui.core.dbt_host.session import SessionBusy
from tui.core.dbt_host.worker import WorkerClient
from tui.core.workspace import Workspace
from tui.launch import build_app

WRITER = """
import sys, time
from tui.core.run_events import NodeFinished, RunFinished, RunStarted
from tui.core.history import HistoryStore
store, prefix, i = HistoryStore(sys.argv[1]), sys.argv[2], 0
while True:
    run, now = f"{prefix}-{i}", time.time()
    store.start_run(RunStarted(run, "build", None, None, now, False))
    store.add_node(NodeFinished(run_id=run, unique_id="model.p.m", name="m", resource_type="model",
                                status="success", started_at=now, finished_at=now, compile_s=0.0,
                                execute_s=0.0, thread="T1", message=None, rows=1, failures=None,
                                est_cost_usd=0.0))
    store.finish_run(RunFinished(run, "success", time.time(), 0.0, None))
    print(run, flush=True)  # acknowledged: the transaction committed
    i += 1
"""
READER = """
import sys
from tui.core.history import HistoryStore
store, n = HistoryStore(sys.argv[1]), 0
while True:
    try:
        runs = store.recent_runs(50)
        store.node_results(runs[0].run_id) if runs else None
        n += 1
    except Exception as error:
        print(f"ERR {type(error).__name__}: {error}", flush=True)
    if n % 20 == 0:
        print(f"OK {n}", flush=True)
"""


@pytest.fixture(scope="module")
def tiny_ws(tmp_path_factory) -> Workspace:
    root = tmp_path_factory.mktemp("rel_concurrency")
    # a build lasts about a second, so run keys pressed in a burst arrive while one is running (with
    # only the tiny models a warm run could end before the next key and nothing would be refused)
    project = make_tiny_dbt_project(root / "project", {"models/marts/slowish.sql": SLOWISH_SQL})
    workspace = Workspace.resolve(workspace=root / "ws", project_dir=project, profiles_dir=project)
    assert invoke(workspace, "build").returncode == 0
    return workspace


def never_overlapping(runs) -> bool:
    spans = sorted((r.started_at, r.finished_at) for r in runs)
    return all(end is not None and end <= next_start for (_, end), (next_start, _) in zip(spans, spans[1:]))


def test_100_rebuild_requests_at_once_run_one_at_a_time(tiny_ws):
    client = WorkerClient(tiny_ws)
    client.start()
    client.wait_ready(timeout=180)
    before = {r.run_id for r in history_runs(tiny_ws)}
    outcomes, gate = [], threading.Barrier(100)

    def fire():
        gate.wait()
        try:
            outcomes.append(client.run("build", select="fct_items").status)
        except SessionBusy as refused:
            outcomes.append(str(refused))

    threads = [threading.Thread(target=fire) for _ in range(100)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        client.close()
    ran = [o for o in outcomes if o == "success"]
    refused = [o for o in outcomes if o != "success"]
    assert len(outcomes) == 100 and len(ran) >= 1 and len(ran) + len(refused) == 100
    assert all("already running" in o and "\n" not in o for o in refused)
    new_runs = [r for r in history_runs(tiny_ws) if r.run_id not in before]
    assert len(new_runs) == len(ran) and never_overlapping(new_runs)


async def test_100_run_keys_in_the_cockpit_never_overlap(tiny_ws):
    app = build_app(tiny_ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.bridge.ready, 180)
        before = {r.run_id for r in history_runs(tiny_ws)}
        await pilot.press(*random.Random(7).choices("brRt", k=100))
        await wait_for(pilot, lambda: not app.bridge.busy, 180)
        refusals = [n for n in app._notifications if "a run is in progress" in n.message]
    new_runs = [r for r in history_runs(tiny_ws) if r.run_id not in before]
    assert new_runs and refusals and never_overlapping(new_runs)
    assert all(r.status in ("success", "error") for r in new_runs)  # "error": a test of a node without tests


def drain(stream, into: list) -> threading.Thread:
    thread = threading.Thread(target=lambda: into.extend(line.strip() for line in stream), daemon=True)
    thread.start()
    return thread


def test_history_survives_two_writers_a_reader_and_10_kill_9s(tmp_path):
    path = tmp_path / "history.sqlite"
    rng = random.Random(11)
    acked: list[str] = []
    reader_lines: list[str] = []

    def start(script: str, *args: str, into: list):
        process = subprocess.Popen([sys.executable, "-c", script, str(path), *args], stdout=subprocess.PIPE, text=True)
        return process, drain(process.stdout, into)

    writers = [start(WRITER, f"w{i}", into=acked) for i in range(2)]
    reader, reader_drain = start(READER, into=reader_lines)
    for kill in range(10):
        time.sleep(rng.uniform(0.1, 0.4))
        slot = rng.randrange(2)
        process, drained = writers[slot]
        process.send_signal(signal.SIGKILL)
        process.wait()
        drained.join(10)
        writers[slot] = start(WRITER, f"w{slot}k{kill}", into=acked)
    time.sleep(0.3)
    for process, drained in [*writers, (reader, reader_drain)]:
        process.send_signal(signal.SIGKILL)
        process.wait()
        drained.join(10)
    assert [line for line in reader_lines if line.startswith("ERR")] == []
    assert any(line.startswith("OK") for line in reader_lines)  # the reader really read all along
    with sqlite3.connect(path) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        finished = {r[0] for r in con.execute("select id from runs where status = 'success'")}
        with_node = {r[0] for r in con.execute("select run_id from node_results")}
    assert len(acked) > 100 and set(acked) <= finished and set(acked) <= with_node
    statuses = {r.status for r in history_runs_at(path)}  # opening marks the killed writers' runs
    assert statuses <= {"success", "interrupted"}


def history_runs_at(path):
    from tui.core.history import HistoryStore

    with HistoryStore(path) as store:
        return store.recent_runs(100_000)
