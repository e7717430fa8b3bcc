"""Screening a shard: its patients in id order, Bundles opened, referenced Medications attached."""

from __future__ import annotations

from pathlib import Path

import orjson

from cds.screening.layout import Layout, plan
from cds.screening.shard import group, screen_shard

from .conftest import AS_OF, ldn, oxycodone, patient


def shard_with(tmp_path: Path, *lines: bytes) -> Layout:
    layout = plan(tmp_path, 0, slots=1, shards=1)
    layout.create()
    (layout.shard_dir(0) / "c000000.ndjson").write_bytes(b"".join(lines))
    return layout


def keyed(pid: str, resource: object) -> bytes:
    return pid.encode() + b"\t" + orjson.dumps(resource) + b"\n"


def test_every_patient_of_the_shard_once_in_patient_id_order_with_the_counts(tmp_path: Path) -> None:
    bundle = {"resourceType": "Bundle", "type": "collection",
              "entry": [{"resource": patient("b")}, {"resource": ldn("b")}, {"resource": oxycodone("b")}, "junk"]}
    layout = shard_with(tmp_path, keyed("c", patient("c")), keyed("b", bundle), keyed("a", ldn("a")),
                        keyed("c", ldn("c")), keyed("c", oxycodone("c")))
    summary = screen_shard(0, layout, AS_OF)
    part = layout.part_file(0).read_bytes().splitlines()
    assert [line.split(b"\t")[0] for line in part] == [b"a", b"b", b"c"]
    lines = [orjson.loads(line.split(b"\t", 1)[1]) for line in part]
    assert [line["patient"] for line in lines] == ["a", "b", "c"]
    assert "LDN-OPI-001" in {a["rule"] for a in lines[1]["alerts"]}  # the Bundle's resources, read together
    assert "LDN-OPI-001" in {a["rule"] for a in lines[2]["alerts"]}  # lines from several files, read together
    assert (summary.patients, summary.patients_with_alerts) == (3, 3)


def test_the_medication_an_order_references_is_attached_to_that_patient_only(tmp_path: Path) -> None:
    referencing = {**ldn("a"), "medicationReference": {"reference": "Medication/m1"}}
    del referencing["medicationCodeableConcept"]
    medication = {"resourceType": "Medication", "id": "m1",
                  "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7243"}]}}
    parsed: dict[bytes, object] = {}
    resources = group([orjson.dumps(referencing), orjson.dumps(patient("a"))], {b"m1": orjson.dumps(medication)}, parsed)
    assert resources == {"MedicationRequest": [referencing], "Patient": [patient("a")], "Medication": [medication]}
    assert group([orjson.dumps(ldn("b"))], {b"m1": orjson.dumps(medication)}, parsed) == {"MedicationRequest": [ldn("b")]}


def test_an_order_naming_a_medication_that_was_not_exported_is_read_as_the_service_reads_it(tmp_path: Path) -> None:
    referencing = {**oxycodone("a"), "medicationReference": {"reference": "Medication/gone", "display": "oxycodone 5 mg"}}
    del referencing["medicationCodeableConcept"]
    layout = shard_with(tmp_path, keyed("a", patient("a")), keyed("a", ldn("a")), keyed("a", referencing))
    screen_shard(0, layout, AS_OF)
    [line] = [orjson.loads(line.split(b"\t", 1)[1]) for line in layout.part_file(0).read_bytes().splitlines()]
    assert "LDN-OPI-001" in {a["rule"] for a in line["alerts"]}  # by its display, as the patient-view service does
