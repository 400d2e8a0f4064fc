"""`pipeline-tui` with only global options opens the cockpit without typer; anything else goes to typer."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tui.cli import cockpit_options


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], {}),
        (["--workspace", "/tmp/ws"], {"workspace": "/tmp/ws"}),
        (["--workspace=/tmp/ws", "--target", "dev"], {"workspace": "/tmp/ws", "target": "dev"}),
        (["--project-dir", "p", "--profiles-dir=q"], {"project_dir": "p", "profiles_dir": "q"}),
    ],
)
def test_only_global_options_open_the_cockpit(args, expected):
    assert cockpit_options(args) == expected


@pytest.mark.parametrize(
    "args",
    [["build"], ["--help"], ["--workspace", "/tmp/ws", "history"], ["--workspace"], ["--target="], ["-h"]],
)
def test_commands_help_and_incomplete_options_go_to_typer(args):
    assert cockpit_options(args) is None


def test_launch_without_a_terminal_still_prints_the_help(tmp_path):
    """Not a terminal: the fast path steps aside and typer's callback prints the help, exit 0."""
    result = subprocess.run([sys.executable, "-c", "from tui.cli import main; main()", "--workspace", str(tmp_path)],
                            capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=120)
    assert result.returncode == 0
    assert "Usage" in result.stdout and "needs a terminal" in result.stderr


def test_a_cancel_dbt_never_answers_still_exits_with_one_line_and_the_stacks_logged(tmp_path):
    """The last resort after Ctrl+C: dbt's thread never returns, the command still exits 130."""
    script = (
        "import threading, types\n"
        "from tui.commands import run\n"
        "from tui.core.workspace import Workspace\n"
        "run.CANCEL_GRACE_S = 0.5\n"
        f"session = types.SimpleNamespace(workspace=Workspace.resolve(workspace={str(tmp_path)!r}))\n"
        "run._wait_after_cancel(session, threading.Event())\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    log = tmp_path / "logs" / "cancel-stuck.log"
    assert result.returncode == 130, result.stderr
    assert result.stderr.count("\n") == 1 and "did not stop within 0.5 s" in result.stderr
    assert "quitting" in result.stderr and str(log) in result.stderr
    assert "_wait_after_cancel" in log.read_text()
