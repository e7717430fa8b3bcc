"""`ldn-cds check`, run as a pharmacist would: through click's runner and as a real process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from cds.cli import EXIT_FAIL_ON, EXIT_INVALID, main

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "patient.json"


def test_check_prints_alerts_by_severity_and_how_each_line_was_read() -> None:
    result = CliRunner().invoke(main, ["check", str(EXAMPLE), "--no-color"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("LDN CDS: 5 alerts")
    assert any(line.startswith("CRITICAL LDN-OPI-001") for line in lines)
    severities = [line.split()[0] for line in lines if line.split() and line.split()[0] in ("CRITICAL", "WARNING", "INFO")]
    assert severities == sorted(severities, key=["CRITICAL", "WARNING", "INFO"].index)
    assert "  medications[0]: 'Percocet 5/325 1 q6h prn' → opioid-agonist; oxycodone up to 20 mg a day as needed" in result.output


def test_check_colours_by_severity_when_asked() -> None:
    result = CliRunner().invoke(main, ["check", str(EXAMPLE), "--color"])
    assert "\x1b[31m" in result.output  # red for critical


def test_check_json_is_the_api_response() -> None:
    result = CliRunner().invoke(main, ["check", str(EXAMPLE), "--json"])
    body = json.loads(result.output)
    assert [alert["rule"] for alert in body["alerts"]][0] == "LDN-OPI-001"
    assert body["evaluationTime"] == "2026-11-23T09:00:00+00:00"


def test_as_of_makes_the_washout_reproducible(tmp_path: Path) -> None:
    later = CliRunner().invoke(main, ["check", str(EXAMPLE), "--json", "--as-of", "2026-12-20"])
    rules = [alert["rule"] for alert in json.loads(later.output)["alerts"]]
    assert "LDN-WASH-001" not in rules  # tramadol stopped 2026-11-18: 32 days before


def test_invalid_input_names_the_field_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"patient": {"age": -3}, "medications": [{"status": "active"}]}', encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == EXIT_INVALID
    assert "patient.age: Must be greater than or equal to 0" in result.output
    assert "medications[0].text: give text or code (or both)" in result.output


def test_malformed_json_exits_2() -> None:
    result = CliRunner().invoke(main, ["check", "-"], input="{not json")
    assert result.exit_code == EXIT_INVALID
    assert "body: is not valid JSON" in result.output


def test_a_file_that_is_not_utf8_is_invalid_input(tmp_path: Path) -> None:
    # Bug: a UnicodeDecodeError traceback.
    bad = tmp_path / "latin1.json"
    bad.write_bytes('{"order": {"text": "naltrexone 4.5 mg \xe0 coucher"}}'.encode("latin-1"))
    result = CliRunner().invoke(main, ["check", str(bad)])
    assert result.exit_code == EXIT_INVALID, result.output
    assert "body: is not UTF-8 text" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("document", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_deeply_nested_json_is_invalid_input(document: str) -> None:
    # Bug: a RecursionError traceback.
    result = CliRunner().invoke(main, ["check", "-"], input=document)
    assert result.exit_code == EXIT_INVALID, result.output
    assert "body: is not valid JSON: it is nested too deeply" in result.output


def test_a_bad_file_prints_no_traceback_from_the_installed_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe{}")
    done = subprocess.run([sys.executable, "-m", "cds.cli", "check", str(bad)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == EXIT_INVALID
    assert "Traceback" not in done.stderr and "body: is not UTF-8 text" in done.stderr


def test_a_lab_after_the_as_of_time_is_invalid_input() -> None:
    result = CliRunner().invoke(main, ["check", str(EXAMPLE), "--as-of", "2000-01-01"])
    assert result.exit_code == EXIT_INVALID
    assert "labs[0].date: is after the evaluation time" in result.output


def test_fail_on_critical_exits_3() -> None:
    result = CliRunner().invoke(main, ["check", str(EXAMPLE), "--fail-on", "critical"])
    assert result.exit_code == EXIT_FAIL_ON


def test_the_installed_command_runs() -> None:
    done = subprocess.run([sys.executable, "-m", "cds.cli", "check", str(EXAMPLE), "--json"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["alerts"]


def test_taper_prints_a_table_and_writes_a_chart(tmp_path: Path) -> None:
    chart = tmp_path / "mme.png"
    result = CliRunner().invoke(main, ["taper", "--opioid", "oxycodone 30 mg every 8 hours", "--years", "3",
                                       "--uldn", "--start", "2026-12-01", "--plot", str(chart)])
    assert result.exit_code == 0, result.output
    assert "Opioid taper: 135 MME/day at the start" in result.output
    assert "2026-12-29   123.75 MME" in result.output
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_taper_csv_has_a_row_per_step_and_drug() -> None:
    result = CliRunner().invoke(main, ["taper", "--opioid", "oxycodone 30 mg every 8 hours", "--years", "3",
                                       "--start", "2026-12-01", "--csv"])
    rows = result.output.strip().splitlines()
    assert rows[0].startswith("step,date,drug") and rows[2].startswith("1,2026-12-29,oxycodone,82.5")


def test_titrate_prints_dates_doses_and_what_to_dispense() -> None:
    result = CliRunner().invoke(main, ["titrate", "--start", "2026-12-01"])
    assert result.exit_code == 0, result.output
    assert "2026-12-01 → 2026-12-28    1.5 mg  1 × 1.5 mg capsule at bedtime" in result.output


def test_an_unreadable_opioid_is_refused_clearly() -> None:
    result = CliRunner().invoke(main, ["taper", "--opioid", "oxycodone", "--years", "1"])
    assert result.exit_code == EXIT_INVALID and "give the dose with its unit" in result.output
