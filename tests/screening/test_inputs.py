"""What a run reads: the files of a Bulk Data export (or one file of Bundles), cut into chunks."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds.screening.inputs import InputProblem, chunks, discover


def touch(directory: Path, *names: str, size: int = 10) -> None:
    for name in names:
        (directory / name).write_bytes(b"{}\n" * size)


def test_an_export_directory_is_read_by_resource_type_from_the_file_names(tmp_path: Path) -> None:
    touch(tmp_path, "Observation.ndjson", "Patient.001.ndjson", "Patient.000.ndjson", "MedicationRequest.ndjson",
          "Medication.ndjson", "Encounter_2.ndjson", "Practitioner.ndjson", "manifest.json", "notes.ndjson")
    found = discover(tmp_path)
    assert [(f.path.name, f.resource_type) for f in found.files] == [
        ("Patient.000.ndjson", "Patient"), ("Patient.001.ndjson", "Patient"),
        ("MedicationRequest.ndjson", "MedicationRequest"), ("Observation.ndjson", "Observation"),
        ("Encounter_2.ndjson", "Encounter"), ("Medication.ndjson", "Medication")]
    assert found.skipped == ("Practitioner.ndjson: Practitioner is not read by screening",
                             "notes.ndjson: no resource type in the name is not read by screening")
    assert found.size == 6 * 30


def test_one_file_is_a_file_of_bundles(tmp_path: Path) -> None:
    touch(tmp_path, "panel.ndjson")
    [found] = discover(tmp_path / "panel.ndjson").files
    assert found.resource_type is None


@pytest.mark.parametrize("make", [lambda d: d / "missing", lambda d: d])
def test_nothing_to_read_is_an_input_problem(tmp_path: Path, make: object) -> None:
    touch(tmp_path, "Practitioner.ndjson")
    with pytest.raises(InputProblem):
        discover(make(tmp_path))  # type: ignore[operator]


def test_chunks_cover_each_file_in_order_and_mark_the_first_of_each(tmp_path: Path) -> None:
    touch(tmp_path, "Patient.ndjson", size=10)  # 30 bytes
    touch(tmp_path, "Condition.ndjson", size=0)
    found = chunks(discover(tmp_path), chunk_bytes=12)
    assert [(c.index, c.name, c.start, c.end, c.first) for c in found] == [
        (0, "Patient.ndjson", 0, 12, True), (1, "Patient.ndjson", 12, 24, False), (2, "Patient.ndjson", 24, 30, False),
        (3, "Condition.ndjson", 0, 0, True)]
