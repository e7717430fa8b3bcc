"""Medications, bound to no patient, joined to the shards whose patients reference them."""

from __future__ import annotations

from pathlib import Path

from cds.screening.layout import plan
from cds.screening.medications import join_bucket


def test_a_medication_is_copied_once_to_each_shard_that_references_it_and_the_rest_dropped(tmp_path: Path) -> None:
    layout = plan(tmp_path, 0, slots=1, shards=4)
    layout.create()
    (layout.bucket_dir(0) / "c000000.tsv").write_bytes(
        b'M\tm1\t{"resourceType":"Medication","id":"m1"}\n'
        b"R\tm1\t2\nR\tm1\t0\nR\tm1\t2\nR\tm9\t1\n"
        b'M\tm2\t{"resourceType":"Medication","id":"m2"}\n')
    (layout.bucket_dir(0) / "c000001.tsv").write_bytes(b'M\tm1\t{"resourceType":"Medication","id":"m1"}\nR\tm1\t3\n')
    assert join_bucket(0, layout) == 3
    for shard in (0, 2, 3):
        assert (layout.shard_dir(shard) / "m00000.ndjson").read_bytes() == \
            b'M:m1\t{"resourceType":"Medication","id":"m1"}\n'
    assert not (layout.shard_dir(1) / "m00000.ndjson").exists()  # m9 was never exported


def test_a_bucket_without_references_writes_nothing(tmp_path: Path) -> None:
    layout = plan(tmp_path, 0, slots=1, shards=2)
    layout.create()
    (layout.bucket_dir(0) / "c000000.tsv").write_bytes(b'M\tm1\t{"resourceType":"Medication","id":"m1"}\n')
    assert join_bucket(0, layout) == 0
