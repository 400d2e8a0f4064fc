"""Terminal hygiene, no network, no tracking, no secrets, no personal values.

- Under the cockpit, a build (a model of a few seconds) and a slow read-only query write 0 bytes to
  the real file descriptors 1 and 2 (a control proves DuckDB's progress bar would show there).
- With every socket connection and host lookup refused (in this process, and through a
  `sitecustomize` for every child process), every command works and makes 0 attempts; with no
  tracking opt-out anywhere, dbt's anonymous usage tracking is still never sent (a plain `dbt`
  under the same guard is the control that would send it).
- A password read from the environment by the profile never shows in output, logs, history or UI.
- Reports, findings, logs and history hold no personal value (names, emails) from the fixtures.
"""

from __future__ import annotations

import csv
import os
import re
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from rel_helpers import CLI, copy_workspace, invoke, wait_for, workspace_args
from tiny_dbt import make_tiny_dbt_project
from tui.core.warehouse import Warehouse
from tui.core.dbt_host.worker import WorkerClient
from tui.core.workspace import Workspace
from tui.launch import build_app

NETGUARD = Path(__file__).with_name("netguard")
SLOW_QUERY = "select sum(a.i * b.i) from range(20000) a(i), range(20000) b(i)"
SECRET = "s3cr3t-Pipeline-Token-6f1d9a"


def tiny(root: Path, **extra: str) -> Workspace:
    project = make_tiny_dbt_project(root / "project", extra)
    return Workspace.resolve(workspace=root / "ws", project_dir=project, profiles_dir=project)


# --- terminal hygiene ------------------------------------------------------------------------
async def test_a_build_and_a_slow_query_under_the_cockpit_write_nothing_to_the_terminal(tmp_path, capfd,
                                                                                         monkeypatch):
    connect = duckdb.connect

    def quick_bar_connect(*args, **kwargs):  # every query counts as slow: the bar would show after 10 ms
        con = connect(*args, **kwargs)
        con.execute("SET progress_bar_time = 10")  # (this also turns the bar on; later settings win)
        return con

    monkeypatch.setattr(duckdb, "connect", quick_bar_connect)
    with duckdb.connect() as con:  # control: DuckDB's progress bar writes straight to fd 1
        con.execute(SLOW_QUERY).fetchone()
    assert capfd.readouterr().out, "control: the progress bar should have shown"
    slowish = "{{ config(materialized='table') }}\n" + SLOW_QUERY.replace("sum(a.i * b.i)", "sum(a.i * b.i) as s")
    ws = tiny(tmp_path, **{"models/marts/slowish.sql": slowish})
    app = build_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.bridge.ready, 180)
        await pilot.press("b")
        await wait_for(pilot, lambda: app.header_info.last_run_status == "ok" and not app.bridge.busy, 180)
        with Warehouse(ws.warehouse) as warehouse:  # the app's read-only query path
            warehouse.query(SLOW_QUERY)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


# --- no network, no tracking -------------------------------------------------------------------
@pytest.fixture
def no_network(monkeypatch, tmp_path):
    """Refuse and count connections here; children get the same through netguard/sitecustomize.py."""
    log = tmp_path / "net.log"
    log.touch()
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args[1:2])
        raise OSError("network blocked by the pipeline-tui reliability tests")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(NETGUARD), os.environ.get("PYTHONPATH", "")]))
    monkeypatch.setenv("PIPELINE_TUI_TEST_NETLOG", str(log))
    return attempts, log


def untracked_env() -> dict[str, str]:
    """The test session opts out of tracking (tests/conftest.py); a user may not have."""
    env = {k: v for k, v in os.environ.items() if k not in ("DO_NOT_TRACK", "DBT_SEND_ANONYMOUS_USAGE_STATS")}
    return {**env, "COLUMNS": "200"}


def test_no_tracking_and_no_connection_without_any_opt_out(no_network, tmp_path, monkeypatch):
    attempts, log = no_network
    ws = tiny(tmp_path)
    yml = ws.project_dir / "dbt_project.yml"
    yml.write_text(yml.read_text().replace("flags:\n  send_anonymous_usage_stats: false\n", ""))
    plain_dbt = [str(Path(sys.executable).with_name("dbt")), "parse", "--project-dir", str(ws.project_dir),
                 "--profiles-dir", str(ws.project_dir), "--target-path", str(tmp_path / "plain")]
    subprocess.run(plain_dbt, capture_output=True, env={**untracked_env(), "PIPELINE_TUI_WAREHOUSE": str(tmp_path / "p.duckdb")},
                   timeout=300)
    assert log.read_text(), "control: plain dbt under the guard should have tried to send its tracking"
    log.write_text("")
    done = subprocess.run([*CLI, *workspace_args(ws), "build"], capture_output=True, text=True,
                          env=untracked_env(), timeout=300)
    assert done.returncode == 0, done.stderr
    for key in ("DO_NOT_TRACK", "DBT_SEND_ANONYMOUS_USAGE_STATS"):
        monkeypatch.delenv(key, raising=False)
    client = WorkerClient(ws)  # the cockpit's path: the worker child inherits this environment
    try:
        client.start()
        client.wait_ready(timeout=180)
        assert client.run("build").status == "success"
    finally:
        client.close()
    assert log.read_text() == "" and attempts == []


def personal_values(raw_dir: Path) -> set[str]:
    with (raw_dir / "employees.csv").open() as handle:
        rows = [r for r in csv.DictReader(handle) if r.get("email")]
    values = {r["email"] for r in rows} | {f"{r['first_name']} {r['last_name']}" for r in rows}
    return values | {r[k] for r in rows for k in ("first_name", "last_name") if len(r[k]) >= 4}


def leaks(text: str, values: set[str]) -> list[str]:
    words = set(re.findall(r"[A-Za-z][A-Za-z'.@0-9_-]*", text))
    return sorted(v for v in values if ((" " in v or "@" in v) and v in text) or v in words)


def history_text(path: Path) -> str:
    with sqlite3.connect(path) as con:
        rows = [row for table in ("runs", "node_results", "profiles") for row in con.execute(f"select * from {table}")]
    return "\n".join(" ".join(str(v) for v in row) for row in rows)


def test_every_command_offline_and_no_personal_value_in_outputs(no_network, rel_built, tmp_path):
    attempts, log = no_network
    ws = copy_workspace(rel_built, tmp_path)
    with (ws.raw_dir / "employees.csv").open("a") as feed:  # a rejected line: its raw text holds a person
        feed.write("9999991,1,Zenobia,Quillfeather,zenobia.quillfeather@example.com,Sales,2020-13-01,,2025-01-06T09:00:00Z\n")
    outputs = [invoke(ws, "fixtures", "generate", "--out", tmp_path / "gen", "--size", "test")]
    outputs.append(subprocess.run([*CLI, *workspace_args(ws), "build"], capture_output=True, text=True,
                                  env={**os.environ, "COLUMNS": "200"}, timeout=600))
    report, findings = tmp_path / "incident.md", tmp_path / "findings.json"
    for args in (["freshness"], ["history"], ["history", "show", "--json"], ["check", "--json"],
                 ["triage", "--report", report, "--json", findings]):
        outputs.append(invoke(ws, *args))
    codes = dict(zip(["fixtures", "build", "freshness", "history", "show", "check", "triage"],
                     [o.returncode for o in outputs]))
    assert codes | {"freshness": 0, "check": 0, "triage": 0} == dict.fromkeys(codes, 0), outputs[1].stderr[-1000:]
    assert {codes["freshness"], codes["check"], codes["triage"]} <= {0, 1}  # 1: stale feeds or a failing check
    assert report.is_file() and findings.is_file()
    assert log.read_text() == "" and attempts == []
    values = personal_values(ws.raw_dir)
    assert "Zenobia Quillfeather" in values and len(values) > 100
    texts = {f"output {i}": o.stdout + o.stderr for i, o in enumerate(outputs)}
    texts |= {str(p): p.read_text(errors="replace") for p in [report, findings, *ws.log_path.rglob("*"),
                                                              *(ws.root / "triage").rglob("*")] if p.is_file()}
    texts["history"] = history_text(ws.history_path)
    assert {name: leaks(text, values)[:5] for name, text in texts.items() if leaks(text, values)} == {}


# --- secrets -------------------------------------------------------------------------------------
async def test_a_profile_password_from_the_environment_is_never_shown(tmp_path, monkeypatch):
    monkeypatch.setenv("PIPELINE_TUI_TEST_PASSWORD", SECRET)
    ws = tiny(tmp_path, **{"models/marts/broken.sql": "select nope from {{ ref('stg_items') }}\n"})
    profiles = ws.profiles_dir / "profiles.yml"
    profiles.write_text(profiles.read_text().replace(
        "      threads: 2\n", "      threads: 2\n      password: \"{{ env_var('PIPELINE_TUI_TEST_PASSWORD') }}\"\n"))
    shown = [invoke(ws, "build"), invoke(ws, "history", "--json"), invoke(ws, "history", "show", "--json")]
    assert shown[0].returncode == 2 and "broken" in shown[0].stderr  # the failing model was reported
    app = build_app(ws)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.bridge.ready, 180)
        await pilot.press("b")
        await wait_for(pilot, lambda: app.last_error is not None and not app.bridge.busy, 180)
        await pilot.press("l")  # the log pane
        await pilot.pause()
        screen_text = "\n".join(str(w.render()) for w in app.screen.query("*"))
        notes = "\n".join(n.message for n in app._notifications)
    seen = [o.stdout + o.stderr for o in shown] + [screen_text, notes, app.last_error or ""]
    seen += [p.read_bytes().decode(errors="replace") for p in ws.root.rglob("*") if p.is_file()]
    assert not [text for text in seen if SECRET in text]


def test_the_query_path_is_read_only(rel_built, tmp_path):
    """The cockpit offers no ad-hoc SQL; its one query path (core.warehouse) cannot write."""
    from tui.core.warehouse import WarehouseError

    ws = copy_workspace(rel_built, tmp_path)
    with Warehouse(ws.warehouse) as warehouse:
        for sql in ("create table pwned as select 1", "delete from dim_plans", "drop table dim_plans"):
            with pytest.raises(WarehouseError, match="read-only"):
                warehouse.query(sql)
        assert warehouse.query("select count(*) from dim_plans")[1][0][0] > 0
