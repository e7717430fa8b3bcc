"""One chunk of the input → the shard files of its patients (a task: runs on any worker).

Idempotent: a chunk writes only files named after it, and overwrites them, so a task that Dask
retries after losing a worker leaves no duplicates.

Each line is parsed once here to find its patient; a line that cannot be screened (not JSON, not
an object, no resourceType, no patient) is reported with its line number and the reason, and
skipped. The line itself is copied to its shard unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from .inputs import Chunk
from .layout import Layout, shard_of
from .ndjson import MAX_LINE_BYTES, JSONDecodeError, Lines, loads
from .references import Unroutable, medication_reference, route

_BUFFER = 256 * 1024
_ORDERS = ("MedicationRequest", "MedicationStatement")


@dataclass(frozen=True, slots=True)
class ChunkResult:
    chunk: int
    lines: int  # numbered, blank ones included: the next chunk's line numbers start after them
    records: int  # lines routed to a patient
    medications: int  # Medication lines (joined later)
    malformed: int
    ignored: int  # resources of types screening does not read
    bytes: int


class _Outputs:
    """A chunk's files, each opened on first write with a large buffer; closed together."""

    def __init__(self, layout: Layout, chunk: int) -> None:
        self.layout = layout
        self.name = f"c{chunk:06d}"
        self.chunk = chunk
        self.shards: dict[int, BinaryIO] = {}
        self.buckets: dict[int, BinaryIO] = {}
        self.errors: BinaryIO | None = None

    def shard(self, shard: int) -> BinaryIO:
        handle = self.shards.get(shard)
        if handle is None:
            path = self.layout.shard_dir(shard) / f"{self.name}.ndjson"
            handle = self.shards[shard] = open(path, "wb", buffering=_BUFFER)
        return handle

    def bucket(self, bucket: int) -> BinaryIO:
        handle = self.buckets.get(bucket)
        if handle is None:
            path = self.layout.bucket_dir(bucket) / f"{self.name}.tsv"
            handle = self.buckets[bucket] = open(path, "wb", buffering=_BUFFER)
        return handle

    def error(self, number: int, reason: str) -> None:
        if self.errors is None:
            self.errors = open(self.layout.errors_file(self.chunk), "wb")
        self.errors.write(f"{number}\t{reason}\n".encode())

    def close(self) -> None:
        for handle in (*self.shards.values(), *self.buckets.values(), *([self.errors] if self.errors else [])):
            handle.close()


def partition_chunk(chunk: Chunk, layout: Layout) -> ChunkResult:
    shards, buckets = layout.shards, layout.buckets
    outputs = _Outputs(layout, chunk.index)
    records = medications = malformed = ignored = 0
    lines = Lines(chunk.path, chunk.start, chunk.end)
    try:
        for line in lines:
            data = line.data
            try:
                if data is None:
                    raise Unroutable(f"line longer than {MAX_LINE_BYTES:,} bytes")
                try:
                    resource = loads(data)
                except JSONDecodeError as error:
                    raise Unroutable(f"not valid JSON ({error})") from None
                where = route(resource)
            except Unroutable as error:
                outputs.error(line.number, str(error))
                malformed += 1
                continue
            if where.kind == "patient":
                key = where.key.encode()
                shard = shard_of(key, shards)
                outputs.shard(shard).write(key + b"\t" + data + b"\n")
                records += 1
                if resource["resourceType"] in _ORDERS:
                    found = medication_reference(resource)
                    if found is not None:  # the Medication is copied to this shard by the join
                        medication = found.encode()
                        outputs.bucket(shard_of(medication, buckets)).write(b"R\t%s\t%d\n" % (medication, shard))
            elif where.kind == "medication":
                key = where.key.encode()
                outputs.bucket(shard_of(key, buckets)).write(b"M\t" + key + b"\t" + data + b"\n")
                medications += 1
            else:
                ignored += 1
    finally:
        outputs.close()
    return ChunkResult(chunk.index, lines.count, records, medications, malformed, ignored, chunk.end - chunk.start)
