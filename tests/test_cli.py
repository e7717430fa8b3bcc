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


# ---- ldn-cds screen ------------------------------------------------------------------------

def _export(directory: Path) -> Path:
    """Two patients of a Bulk Data export, one on LDN with oxycodone, and two lines that are not FHIR."""
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"

    def order(pid: str, code: str, text: str, dose: float, timing: str) -> dict:
        return {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
                "subject": {"reference": f"Patient/{pid}"}, "authoredOn": "2026-10-01",
                "medicationCodeableConcept": {"coding": [{"system": rxnorm, "code": code}], "text": text},
                "dosageInstruction": [{"timing": {"code": {"coding": [{"code": timing}]}},
                                       "doseAndRate": [{"doseQuantity": {"value": dose, "unit": "mg"}}]}]}

    directory.mkdir()
    patients = [{"resourceType": "Patient", "id": pid, "gender": "male", "birthDate": "1960-01-01"}
                for pid in ("zed", "amy")]
    (directory / "Patient.ndjson").write_text("\n".join(json.dumps(p) for p in patients) + "\nnot json\n",
                                              encoding="utf-8")
    (directory / "MedicationRequest.ndjson").write_text("\n".join(json.dumps(o) for o in (
        order("zed", "7243", "naltrexone 4.5 mg compounded", 4.5, "HS"),
        order("zed", "1049621", "oxycodone hydrochloride 5 MG Oral Tablet", 5, "Q6H"),
        {"resourceType": "MedicationRequest", "subject": {"reference": "Group/1"}})) + "\n", encoding="utf-8")
    return directory


def test_screen_writes_a_line_per_patient_a_summary_and_the_malformed_lines(tmp_path: Path) -> None:
    export = _export(tmp_path / "export")
    out = tmp_path / "alerts.ndjson"
    result = CliRunner().invoke(main, ["screen", str(export), "--out", str(out), "--as-of", "2026-11-23T12:00:00Z",
                                       "--workers", "1"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["patient"] for line in lines] == ["amy", "zed"]  # every patient, by id
    assert lines[0]["alerts"] == [] and lines[1]["alerts"][0]["rule"] == "LDN-OPI-001"
    assert result.stdout.startswith("Screened 2 patients as of 2026-11-23T12:00:00+00:00 in ")
    assert "LDN-OPI-001" in result.stdout and "malformed lines" in result.stdout
    stderr = result.stderr.splitlines()
    assert stderr[0].startswith("Patient.ndjson:3: not valid JSON (")
    assert stderr[1] == "MedicationRequest.ndjson:3: MedicationRequest has no patient reference (subject or patient: " \
                        "Patient/<id>)"
    assert (tmp_path / "alerts.errors.txt").read_text(encoding="utf-8").splitlines()[0].startswith("Patient.ndjson:3: ")
    summary = (tmp_path / "alerts.summary.csv").read_text(encoding="utf-8")
    assert "patients screened,,,,2" in summary and "malformed lines,,,,2" in summary
    assert "alerts,LDN-OPI-001,opioid-conflict,critical,1" in summary
    assert "\r" not in result.stderr  # no progress bar when stderr is not a terminal


def test_screen_reports_go_where_they_are_asked_and_progress_when_asked(tmp_path: Path) -> None:
    export = _export(tmp_path / "export")
    (tmp_path / "reports").mkdir()
    summary, errors = tmp_path / "reports" / "counts.csv", tmp_path / "reports" / "bad.txt"
    result = CliRunner().invoke(main, ["screen", str(export), "--out", str(tmp_path / "a.ndjson"), "--workers", "1",
                                       "--summary", str(summary), "--errors", str(errors), "--progress"])
    assert result.exit_code == 0, result.output
    assert summary.is_file() and len(errors.read_text(encoding="utf-8").splitlines()) == 2
    assert "screening" in result.stderr  # the bar, forced on
    as_of = result.stdout.split(" as of ", 1)[1].split(" in ", 1)[0]  # now, printed so it can be reproduced
    assert as_of.endswith("+00:00") and as_of[:4].isdigit()


@pytest.mark.parametrize(("arguments", "message"), [
    (["--as-of", "23/11/2026"], "--as-of: Not a valid ISO 8601 date or date-time."),
    (["--out", "/no/such/dir/a.ndjson"], "--out: /no/such/dir: no such directory"),
])
def test_screen_refuses_bad_options_naming_them(tmp_path: Path, arguments: list[str], message: str) -> None:
    export = _export(tmp_path / "export")
    base = ["screen", str(export), "--out", str(tmp_path / "a.ndjson")]
    result = CliRunner().invoke(main, base + arguments)
    assert result.exit_code == EXIT_INVALID
    assert message in result.stderr


def test_screen_of_a_directory_without_fhir_files_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["screen", str(tmp_path / "empty"), "--out", str(tmp_path / "a.ndjson")])
    assert result.exit_code == EXIT_INVALID
    assert "no <Type>*.ndjson files" in result.stderr and not (tmp_path / "a.ndjson").exists()
