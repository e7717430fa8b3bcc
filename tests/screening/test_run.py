"""Whole runs: an export directory or a file of Bundles in, one line per patient out, in patient id
order; the same answer in this process, on a local cluster and on an existing one."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from cds.screening.inputs import InputProblem
from cds.screening.run import ScreenOptions, screen

from .conftest import AS_OF, alt, ldn, order, oxycodone, patient, write_ndjson


def options(source: Path, out_dir: Path, **extra: Any) -> ScreenOptions:
    out_dir.mkdir(exist_ok=True)
    return ScreenOptions(input=source, out=out_dir / "alerts.ndjson", summary=out_dir / "alerts.summary.csv",
                         errors=out_dir / "alerts.errors.txt", **{"as_of": AS_OF, "workers": 1, **extra})


def read(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def small_export(directory: Path) -> Path:
    directory.mkdir()
    referencing = {**order("p3", "r3", None, "", 5, "mg", "Q6H"), "medicationReference": {"reference": "Medication/oxy"}}
    del referencing["medicationCodeableConcept"]
    write_ndjson(directory / "Patient.000.ndjson", [patient("p3"), patient("p1", "male")])
    (directory / "Patient.001.ndjson").write_bytes(orjson.dumps(patient("p2")) + b"\n{broken\n")
    stopped = {**oxycodone("p4", "oxy4"), "status": "completed",
               "dispenseRequest": {"validityPeriod": {"start": "2026-10-01", "end": "2026-11-18"}}}
    write_ndjson(directory / "MedicationRequest.ndjson", [ldn("p1"), oxycodone("p1"), ldn("p3"), referencing,
                                                          ldn("p4"), stopped, {**ldn("p5"), "intent": ["order"]}])
    write_ndjson(directory / "Observation.ndjson", [alt("p1", "o1", 30), {"resourceType": "Observation"}])
    write_ndjson(directory / "Medication.ndjson", [{"resourceType": "Medication", "id": "oxy", "code": {"coding": [
        {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "1049621"}]}}])
    write_ndjson(directory / "Practitioner.ndjson", [{"resourceType": "Practitioner", "id": "dr"}])
    return directory


def test_an_export_directory_gives_every_patient_one_line_in_id_order(tmp_path: Path) -> None:
    shown: list[str] = []
    summary = screen(options(small_export(tmp_path / "export"), tmp_path / "out"), echo=shown.append)
    lines = read(tmp_path / "out" / "alerts.ndjson")
    assert [line["patient"] for line in lines] == ["p1", "p2", "p3", "p4", "p5"]
    rules = {line["patient"]: {alert["rule"] for alert in line["alerts"]} for line in lines}
    assert "LDN-OPI-001" in rules["p1"]  # LDN with oxycodone
    assert "LDN-OPI-001" in rules["p3"]  # the oxycodone named by a Medication resource
    assert rules["p2"] == set()  # no naltrexone: nothing to review, still a line
    assert "LDN-WASH-001" in rules["p4"]  # known only from its orders (no Patient resource), screened too
    assert lines[4] == {"patient": "p5", "alerts": [],
                        "error": "ldn-review: FHIR data of an unexpected shape (TypeError); check it against FHIR R4"}
    assert shown[0].startswith("Patient.001.ndjson:2: not valid JSON (") and "broken" not in shown[0]
    assert shown[1:] == ["Observation.ndjson:2: Observation has no patient reference (subject or patient: Patient/<id>)"]
    assert (tmp_path / "out" / "alerts.errors.txt").read_text().splitlines() == shown
    assert (summary.patients, summary.patients_with_errors, summary.malformed_lines) == (5, 1, 2)
    assert summary.files_skipped == ["Practitioner.ndjson: Practitioner is not read by screening"]
    rows = list(csv.reader((tmp_path / "out" / "alerts.summary.csv").read_text(encoding="utf-8").splitlines()))
    assert ["patients screened", "", "", "", "5"] in rows and ["as of", "", "", "", AS_OF.isoformat()] in rows
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == \
        ["alerts.errors.txt", "alerts.ndjson", "alerts.summary.csv"]  # the work directory is gone


def test_a_file_of_bundles_gives_the_same_lines_as_the_export(tmp_path: Path) -> None:
    export = small_export(tmp_path / "export")
    screen(options(export, tmp_path / "a"), echo=lambda _: None)
    by_patient: dict[str, list[Any]] = {}
    medications = {r["id"]: r for r in read(export / "Medication.ndjson")}
    for path in sorted(export.glob("[PMO]*.ndjson")):
        for line in path.read_bytes().splitlines():
            try:
                resource = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            pid = resource.get("id") if resource.get("resourceType") == "Patient" else \
                resource.get("subject", {}).get("reference", "/").split("/")[1] or None
            if pid and resource["resourceType"] != "Medication":
                by_patient.setdefault(pid, []).append(resource)
    by_patient["p3"].append(medications["oxy"])
    bundles = [{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
               for _, resources in sorted(by_patient.items(), reverse=True)]
    summary = screen(options(write_ndjson(tmp_path / "panel.ndjson", bundles), tmp_path / "b"), echo=lambda _: None)
    assert read(tmp_path / "b" / "alerts.ndjson") == read(tmp_path / "a" / "alerts.ndjson")
    assert summary.malformed_lines == 0


def test_as_of_decides_what_is_current(tmp_path: Path) -> None:
    export = small_export(tmp_path / "export")
    later = AS_OF + timedelta(days=400)
    screen(options(export, tmp_path / "now"), echo=lambda _: None)
    screen(options(export, tmp_path / "later", as_of=later), echo=lambda _: None)
    [now, later] = [{a["rule"] for a in read(tmp_path / d / "alerts.ndjson")[3]["alerts"]} for d in ("now", "later")]
    assert "LDN-WASH-001" in now and "LDN-WASH-001" not in later  # oxycodone stopped 5 days before, or 405
    screen(options(export, tmp_path / "again"), echo=lambda _: None)
    assert (tmp_path / "again" / "alerts.ndjson").read_bytes() == (tmp_path / "now" / "alerts.ndjson").read_bytes()


def test_an_input_that_cannot_be_read_is_an_input_problem_and_leaves_nothing(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputProblem):
        screen(options(tmp_path / "empty", tmp_path / "out"), echo=lambda _: None)
    assert list((tmp_path / "out").iterdir()) == []


def test_the_same_panel_gives_the_same_file_in_process_on_a_local_cluster_and_on_an_existing_one(
        synthetic_export: Path, tmp_path: Path, dask_cluster: Any) -> None:
    alone = screen(options(synthetic_export, tmp_path / "alone", shards=3), echo=lambda _: None)
    local = screen(options(synthetic_export, tmp_path / "local", workers=2), echo=lambda _: None)
    existing = screen(options(synthetic_export, tmp_path / "existing", workers=None,
                              scheduler=dask_cluster.scheduler_address), echo=lambda _: None)
    expected = (tmp_path / "alone" / "alerts.ndjson").read_bytes()
    assert (tmp_path / "local" / "alerts.ndjson").read_bytes() == expected
    assert (tmp_path / "existing" / "alerts.ndjson").read_bytes() == expected
    assert alone.patients == local.patients == existing.patients == 300
    assert alone.rule_rows() == local.rule_rows() == existing.rule_rows()
    assert alone.patients_with_alerts >= 20 and alone.patients_with_errors == 0
