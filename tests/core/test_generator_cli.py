"""`pipeline-tui fixtures generate` through typer's CliRunner."""

from __future__ import annotations

from typer.testing import CliRunner

from tui.cli import app


def test_generate_prints_a_summary_and_writes_the_feeds(tmp_path):
    result = CliRunner().invoke(app, ["fixtures", "generate", "--out", str(tmp_path), "--scenario", "incident",
                                      "--companies", "3", "--employees", "50", "--claims-per-day", "20",
                                      "--days", "3", "--seed", "5", "--malformed"])
    assert result.exit_code == 0, result.output
    assert "incident (seed 5)" in result.output and "claims" in result.output
    assert (tmp_path / "ground_truth.json").is_file() and len(list((tmp_path / "claims").glob("*.jsonl"))) == 4

    more = CliRunner().invoke(app, ["fixtures", "generate", "--out", str(tmp_path), "--next-day"])
    assert more.exit_code == 0 and len(list((tmp_path / "claims").glob("*.jsonl"))) == 5


def test_unknown_scenario_is_one_line_error(tmp_path):
    result = CliRunner().invoke(app, ["fixtures", "generate", "--out", str(tmp_path), "--scenario", "nope"])
    assert result.exit_code == 2
    assert "unknown scenario" in result.output and "Traceback" not in result.output


def test_end_date_option_names_the_last_file(tmp_path):
    result = CliRunner().invoke(app, ["fixtures", "generate", "--out", str(tmp_path), "--companies", "2",
                                      "--employees", "30", "--claims-per-day", "10", "--days", "2",
                                      "--end-date", "2025-05-01"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "claims").glob("*.jsonl")) == [
        "claims_2025-04-30.jsonl", "claims_2025-05-01.jsonl"]
    both = CliRunner().invoke(app, ["fixtures", "generate", "--out", str(tmp_path), "--start-date", "2025-04-01",
                                    "--end-date", "2025-05-01"])
    assert both.exit_code == 2 and "not both" in both.output and "Traceback" not in both.output
