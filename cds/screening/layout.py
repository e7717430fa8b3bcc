"""Where one run keeps its intermediate files, and which shard a patient falls in.

    <work>/shards/<shard>/c<chunk>.ndjson   a chunk's lines of the shard's patients: `<patient id>\\t<line>`
    <work>/shards/<shard>/m<bucket>.ndjson  Medications its patients reference: `M:<id>\\t<line>`
    <work>/buckets/<bucket>/c<chunk>.tsv    Medications (`M\\t<id>\\t<line>`) and references to them
                                            (`R\\t<id>\\t<shard>`), by a hash of the Medication id
    <work>/errors/<chunk>.tsv               malformed lines of a chunk: `<line in chunk>\\t<reason>`
    <work>/parts/<shard>.ndjson             a shard's output, sorted by patient id: `<patient id>\\t<json>`

The hash is CRC-32 (stable across processes and machines, unlike `hash()`), so any worker puts a
patient in the same shard. Every path is under `root`: on a cluster it must be a directory all
workers can read and write (a shared file system).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

MIN_SHARDS = 2
MAX_SHARDS = 1024
SHARD_BYTES = 16 * 1024 * 1024  # of input per shard: a worker holds one shard's lines at a time


@dataclass(frozen=True, slots=True)
class Layout:
    root: str
    shards: int
    buckets: int  # Medication buckets

    def shard_dir(self, shard: int) -> Path:
        return Path(self.root, "shards", f"{shard:05d}")

    def bucket_dir(self, bucket: int) -> Path:
        return Path(self.root, "buckets", f"{bucket:05d}")

    def errors_file(self, chunk: int) -> Path:
        return Path(self.root, "errors", f"{chunk:06d}.tsv")

    def part_file(self, shard: int) -> Path:
        return Path(self.root, "parts", f"{shard:05d}.ndjson")

    def create(self) -> None:
        for name in ("shards", "buckets", "errors", "parts"):
            Path(self.root, name).mkdir(parents=True, exist_ok=True)
        for shard in range(self.shards):
            self.shard_dir(shard).mkdir(exist_ok=True)
        for bucket in range(self.buckets):
            self.bucket_dir(bucket).mkdir(exist_ok=True)


def plan(root: Path, input_bytes: int, slots: int, shards: int | None = None) -> Layout:
    """Enough shards for every worker to have four or more (load balance) and for each to hold about
    `SHARD_BYTES` of input; Medication buckets are fewer (Medications are few)."""
    if shards is None:
        shards = min(MAX_SHARDS, max(MIN_SHARDS, 4 * slots, -(-input_bytes // SHARD_BYTES)))
    return Layout(str(root), shards, max(1, shards // 8))


def shard_of(key: bytes, shards: int) -> int:
    return zlib.crc32(key) % shards
