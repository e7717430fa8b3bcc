"""Shards: how many, and which one a patient falls in (the same in every process)."""

from __future__ import annotations

from pathlib import Path

from cds.screening.layout import MAX_SHARDS, SHARD_BYTES, plan, shard_of


def test_enough_shards_for_every_worker_and_for_the_input_size(tmp_path: Path) -> None:
    assert plan(tmp_path, 1000, slots=1).shards == 4
    assert plan(tmp_path, 1000, slots=4).shards == 16
    assert plan(tmp_path, 40 * SHARD_BYTES, slots=2).shards == 40
    assert plan(tmp_path, 10**15, slots=2).shards == MAX_SHARDS
    assert plan(tmp_path, 1000, slots=2, shards=3).shards == 3
    assert plan(tmp_path, 1000, slots=2, shards=64).buckets == 8


def test_the_shard_of_a_patient_is_a_stable_hash() -> None:
    assert shard_of(b"p1", 1024) == 1060662067 % 1024  # CRC-32 of "p1", not Python's per-process hash()
    assert {shard_of(f"p{n}".encode(), 8) for n in range(200)} == set(range(8))


def test_the_layout_creates_its_directories(tmp_path: Path) -> None:
    layout = plan(tmp_path / "work", 1000, slots=1, shards=3)
    layout.create()
    assert sorted(p.name for p in (tmp_path / "work" / "shards").iterdir()) == ["00000", "00001", "00002"]
    assert layout.part_file(2) == tmp_path / "work" / "parts" / "00002.ndjson"
