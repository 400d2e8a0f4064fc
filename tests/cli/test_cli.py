"""The headless CLI: help on every command, exit codes, one-line errors, history output and import, Ctrl+C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import pytest
import typer.main

from tiny_dbt import SLOW_SQL, TINY_ROWS, make_tiny_dbt_project
from tui.cli import app

CLI = [sys.executable, "-c", "from tui.cli import main; main()"]


def cli(*args, timeout=120):
    env = {**os.environ, "DO_NOT_TRACK": "1", "COLUMNS": "200"}
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout, env=env)


def walk(command: click.Command, path=()):
    yield path, command
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from walk(sub, (*path, name))


def test_every_command_and_option_has_help_text():
    root = typer.main.get_command(app)
    commands = list(walk(root))
    names = {" ".join(path) for path, _ in commands}
    assert {"build", "run", "test", "seed", "snapshot", "freshness", "history", "history import", "fixtures"} <= names
    for path, command in commands:
        assert (command.help or "").strip(), f"`{' '.join(path)}` has no help text"
        for param in command.params:
            if isinstance(param, click.Option):
                assert (param.help or "").strip(), f"`{' '.join(path)} {param.opts[0]}` has no help text"


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_tiny_dbt_project(tmp_path_factory.mktemp("cli") / "project")


@pytest.fixture(scope="module")
def built(project, tmp_path_factory):
    """One successful headless build of the tiny project: (workspace dir, completed process)."""
    ws = tmp_path_factory.mktemp("cli_ws")
    done = cli("--project-dir", project, "--workspace", ws, "build")
    return ws, done


def test_build_succeeds_with_a_line_per_node_and_a_recorded_run(project, built):
    ws, done = built
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    fct = next(line for line in lines if " fct_items " in line)
    assert "OK" in fct and f"{TINY_ROWS} rows" in fct and "est. $" in fct
    assert lines[-1].startswith("SUCCESS")
    history = cli("--project-dir", project, "--workspace", ws, "history", "--json")
    [run] = json.loads(history.stdout)
    assert (run["command"], run["status"]) == ("build", "success")


def test_a_rebuild_shows_the_change_against_the_median(project, built):
    ws, _ = built
    done = cli("--project-dir", project, "--workspace", ws, "run", "-s", "fct_items")
    assert done.returncode == 0, done.stderr
    [line] = [ln for ln in done.stdout.splitlines() if " fct_items " in ln]
    assert " vs " in line and "%" in line


def test_a_failing_test_exits_1(project, tmp_path):
    failing = tmp_path / "failing"
    shutil.copytree(project, failing)
    with open(failing / "seeds" / "raw_items.csv", "a") as seeds:
        seeds.write("4,duplicate,1\n")
    done = cli("--project-dir", failing, "--workspace", tmp_path / "ws", "build")
    assert done.returncode == 1
    assert any(line.startswith("FAIL") or " FAIL " in line for line in done.stdout.splitlines())
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("args, expected", [
    (("--project-dir", "{missing}", "build"), "no dbt project at"),
    (("build", "--vars", "[1, 2]"), "--vars must be a YAML or JSON mapping"),
    (("build", "-s", "no_such_model"), "nothing matches the selector 'no_such_model'"),
    (("history", "import", "{missing}"), "does not exist"),
])
def test_bad_input_exits_2_with_one_line(project, built, tmp_path, args, expected):
    ws, _ = built
    args = [a.replace("{missing}", str(tmp_path / "missing")) for a in args]
    base = [] if "--project-dir" in args else ["--project-dir", project]
    done = cli(*base, "--workspace", ws, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0]
    assert "Traceback" not in done.stderr


def test_history_import_of_a_real_run_results_json(project, built, tmp_path):
    ws, _ = built
    results = json.loads((ws / "target" / "run_results.json").read_text())
    done = cli("--project-dir", project, "--workspace", tmp_path / "fresh", "history", "import",
               ws / "target" / "run_results.json")
    assert done.returncode == 0, done.stderr
    shown = json.loads(cli("--project-dir", project, "--workspace", tmp_path / "fresh", "history", "show", "--json").stdout)
    assert shown["run"]["run_id"] == results["metadata"]["invocation_id"]
    assert sorted(n["unique_id"] for n in shown["nodes"]) == sorted(r["unique_id"] for r in results["results"])
    assert {n["status"] for n in shown["nodes"]} == {r["status"] for r in results["results"]}


def _sigint_as_in_a_terminal() -> None:
    """A child of a background job (e.g. CI started with `&`) inherits SIGINT ignored, and Python
    then never raises KeyboardInterrupt; a command run in a terminal has the default."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_cancels_the_build_cleanly(project, tmp_path):
    slow = tmp_path / "slow"
    shutil.copytree(project, slow)
    (slow / "models" / "slow.sql").write_text(SLOW_SQL)
    process = subprocess.Popen([*CLI, "--project-dir", str(slow), "--workspace", str(tmp_path / "ws"), "run",
                                "-s", "slow"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "DO_NOT_TRACK": "1"}, preexec_fn=_sigint_as_in_a_terminal)
    assert "pipeline-tui run" in process.stderr.readline()  # the run has started
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    asked = time.monotonic()
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 130 and time.monotonic() - asked < 10, stderr
    assert "cancelling" in stderr and "Traceback" not in stderr
    assert "CANCEL" in stdout
