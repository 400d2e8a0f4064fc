"""`pipeline-tui fixtures incident` adds the incident to a workspace's raw feeds as the next delivery:
the partner feed, enrollments.csv and ground_truth.json come out byte for byte as
`fixtures generate --scenario incident` writes them for the same seed and size."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CLI = [sys.executable, "-c", "from tui.cli import main; main()"]


def run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIPELINE_TUI_")}
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)


def test_incident_is_added_after_the_last_file_like_the_incident_scenario(tmp_path):
    ws, whole = tmp_path / "ws", tmp_path / "whole"
    assert run("fixtures", "generate", "--out", str(ws / "raw"), "--size", "test").returncode == 0
    assert run("fixtures", "generate", "--out", str(whole), "--size", "test", "--scenario", "incident").returncode == 0
    before = sorted(p.name for p in (ws / "raw" / "claims").iterdir())
    done = run("--workspace", str(ws), "fixtures", "incident")
    assert done.returncode == 0, done.stderr
    added = sorted(set(p.name for p in (ws / "raw" / "claims").iterdir()) - set(before))
    assert added == [p.name for p in (whole / "claims").glob("*_partner.jsonl")]
    assert added[0] > before[-1]  # the next delivery after the last file
    for name in (f"claims/{added[0]}", "enrollments.csv"):
        assert (ws / "raw" / name).read_bytes() == (whole / name).read_bytes(), name
    truth = json.loads((ws / "raw" / "ground_truth.json").read_text())
    assert truth == json.loads((whole / "ground_truth.json").read_text())
    again = run("--workspace", str(ws), "fixtures", "incident")
    assert again.returncode == 2 and "already" in again.stderr and "Traceback" not in again.stderr


def test_out_writes_a_copy_and_leaves_the_workspace_alone(tmp_path):
    ws, copy = tmp_path / "ws", tmp_path / "copy"
    assert run("fixtures", "generate", "--out", str(ws / "raw"), "--size", "test").returncode == 0
    done = run("--workspace", str(ws), "fixtures", "incident", "--out", str(copy))
    assert done.returncode == 0, done.stderr
    assert not (ws / "raw" / "ground_truth.json").exists() and (copy / "ground_truth.json").exists()
    assert list((copy / "claims").glob("*_partner.jsonl")) and not list((ws / "raw" / "claims").glob("*_partner.jsonl"))


def test_a_folder_not_made_by_the_generator_gets_one_line(tmp_path):
    done = run("--workspace", str(tmp_path / "empty"), "fixtures", "incident")
    assert done.returncode == 2 and "generate" in done.stderr and "Traceback" not in done.stderr
