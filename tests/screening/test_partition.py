"""Partitioning a chunk: each good line copied to its patient's shard, each bad one reported."""

from __future__ import annotations

from pathlib import Path

import orjson

from cds.screening.inputs import chunks, discover
from cds.screening.layout import Layout, plan, shard_of
from cds.screening.partition import partition_chunk

from .conftest import ldn, patient

MEDICATION = {"resourceType": "Medication", "id": "m1", "code": {"text": "naltrexone"}}
REFERENCING = {**ldn("p2", "r2"), "medicationReference": {"reference": "Medication/m1"}}


def lines(*values: object) -> bytes:
    return b"".join(v if isinstance(v, bytes) else orjson.dumps(v) + b"\n" for v in values)


def partitioned(tmp_path: Path, text: bytes, shards: int = 3) -> tuple[Layout, object]:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "panel.ndjson").write_bytes(text)
    layout = plan(tmp_path / "work", len(text), slots=1, shards=shards)
    layout.create()
    [chunk] = chunks(discover(tmp_path / "in" / "panel.ndjson"))
    return layout, partition_chunk(chunk, layout)


def shard_lines(layout: Layout) -> dict[int, list[bytes]]:
    return {shard: [line for path in sorted(layout.shard_dir(shard).iterdir()) for line in path.read_bytes().splitlines()]
            for shard in range(layout.shards)}


def test_each_line_goes_unchanged_to_the_shard_of_its_patient_after_its_id(tmp_path: Path) -> None:
    text = lines(patient("p1"), ldn("p1"), patient("p2"), REFERENCING, MEDICATION,
                 {"resourceType": "Practitioner", "id": "dr"})
    layout, result = partitioned(tmp_path, text)
    found = shard_lines(layout)
    for pid, resource in (("p1", patient("p1")), ("p1", ldn("p1")), ("p2", patient("p2")), ("p2", REFERENCING)):
        assert pid.encode() + b"\t" + orjson.dumps(resource) in found[shard_of(pid.encode(), 3)]
    assert sum(len(v) for v in found.values()) == 4
    assert (result.lines, result.records, result.medications, result.malformed, result.ignored) == (6, 4, 1, 0, 1)
    bucket = b"".join(p.read_bytes() for p in layout.bucket_dir(0).iterdir())
    assert b"R\tm1\t%d\n" % shard_of(b"p2", 3) in bucket
    assert b"M\tm1\t" + orjson.dumps(MEDICATION) + b"\n" in bucket


def test_malformed_lines_are_reported_with_their_number_and_reason_and_skipped(tmp_path: Path) -> None:
    text = lines(patient("p1"), b"{not json\n", b"[1]\n", b'{"id": "x"}\n', b"\n",
                 {"resourceType": "Condition", "subject": {"reference": "Group/g"}}, b'{"resourceType": "Patient", "id": NaN}\n',
                 ldn("p1"))
    layout, result = partitioned(tmp_path, text)
    assert (result.lines, result.records, result.malformed) == (8, 2, 5)
    report = layout.errors_file(0).read_text().splitlines()
    assert [entry.split("\t")[0] for entry in report] == ["2", "3", "4", "6", "7"]
    assert report[0].startswith("2\tnot valid JSON (")
    assert report[1:4] == ["3\tnot a JSON object", "4\tno resourceType",
                           "6\tCondition has no patient reference (subject or patient: Patient/<id>)"]
    assert "{not json" not in "".join(report)  # reasons, never the content


def test_a_chunk_run_twice_leaves_no_duplicates(tmp_path: Path) -> None:
    layout, _ = partitioned(tmp_path, lines(patient("p1"), ldn("p1")))
    [chunk] = chunks(discover(tmp_path / "in" / "panel.ndjson"))
    partition_chunk(chunk, layout)  # as when Dask retries a task after losing its worker
    assert sum(len(v) for v in shard_lines(layout).values()) == 2
