"""Soak: 50 warm rebuilds through the persistent worker (the cockpit's path) in one session.

Memory, threads, open files and warehouse handles of the worker process are taken after a warm-up
and after the 50 runs; growth is printed (`pytest -s`) and bounded. Bounds are loose on purpose
(a leaked connection, thread or file, or half a megabyte per run, breaks them).
"""

from __future__ import annotations

import os
import threading

from rel_helpers import invoke, open_fds_to
from tiny_dbt import make_tiny_dbt_project
from tui.core.dbt_host.worker import WorkerClient
from tui.core.workspace import Workspace

RUNS = 50
MAX_RSS_GROWTH_MB = 25  # measured: +2.4 MB over 50 runs
MAX_NEW_THREADS = 2
MAX_NEW_FDS = 5


def process_facts(pid: int, warehouse) -> dict[str, float]:
    status = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status").read().splitlines() if ":" in line)
    return {"rss_mb": int(status["VmRSS"].split()[0]) / 1024, "threads": len(os.listdir(f"/proc/{pid}/task")),
            "fds": len(os.listdir(f"/proc/{pid}/fd")), "warehouse_fds": len(open_fds_to(pid, warehouse))}


def test_50_warm_rebuilds_leak_no_memory_threads_or_connections(tmp_path):
    project = make_tiny_dbt_project(tmp_path / "project")
    ws = Workspace.resolve(workspace=tmp_path / "ws", project_dir=project, profiles_dir=project)
    assert invoke(ws, "build").returncode == 0
    client = WorkerClient(ws)
    client.start()
    try:
        client.wait_ready(timeout=180)
        pid = client._process.pid
        for _ in range(5):  # warm-up: caches and pools reach their steady size
            assert client.run("build").status == "success"
        before, here_before = process_facts(pid, ws.warehouse), threading.active_count()
        statuses = [client.run("build", select="fct_items+" if i % 2 else None).status for i in range(RUNS)]
        after, here_after = process_facts(pid, ws.warehouse), threading.active_count()
        assert client._process.pid == pid and client.restarts == 0  # one session all along
    finally:
        client.close()
    print(f"\nsoak {RUNS} warm rebuilds: before {before}, after {after}, client threads {here_before}->{here_after}")
    assert statuses == ["success"] * RUNS
    assert after["rss_mb"] - before["rss_mb"] < MAX_RSS_GROWTH_MB
    assert after["threads"] - before["threads"] <= MAX_NEW_THREADS
    assert after["fds"] - before["fds"] <= MAX_NEW_FDS
    assert before["warehouse_fds"] == after["warehouse_fds"] == 0  # idle: the warehouse is not held open
    assert here_after - here_before <= MAX_NEW_THREADS
