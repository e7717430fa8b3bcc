"""Medication resources joined to the shards of the patients that reference them (a task per bucket).

Medication resources belong to no patient: a MedicationRequest names one by `medicationReference`.
Holding every Medication of an export in memory is bounded by nothing (some EHRs export one per
order), so they are joined on disk, like the patients: partitioning puts each Medication line, and
each reference to a Medication (with the shard of the patient that makes it), in a bucket by a hash
of the Medication id. Here, one bucket at a time, each Medication is copied to every shard that
references it, once per shard. A worker then holds at most one bucket's references, and a shard
carries only the Medications its own patients name. Medications nobody references are dropped.
"""

from __future__ import annotations

from typing import BinaryIO

from .layout import Layout


def join_bucket(bucket: int, layout: Layout) -> int:
    """Copy the bucket's Medications to the shards that reference them; how many copies were written.
    Idempotent: the files written are named after the bucket and overwritten."""
    directory = layout.bucket_dir(bucket)
    parts = sorted(directory.glob("c*.tsv"))
    wanted: dict[bytes, set[int]] = {}  # Medication id → shards whose patients reference it
    for part in parts:
        with open(part, "rb") as handle:
            for line in handle:
                if line.startswith(b"R\t"):
                    _, medication, referencing = line.rstrip(b"\n").split(b"\t")
                    wanted.setdefault(medication, set()).add(int(referencing))
    if not wanted:
        return 0
    written = 0
    outputs: dict[int, BinaryIO] = {}
    copied: set[tuple[bytes, int]] = set()  # the same Medication exported twice is copied once
    try:
        for part in parts:
            with open(part, "rb") as handle:
                for line in handle:
                    if not line.startswith(b"M\t"):
                        continue
                    _, medication, data = line.split(b"\t", 2)
                    for shard in sorted(wanted.get(medication, ())):
                        if (medication, shard) in copied:
                            continue
                        copied.add((medication, shard))
                        output = outputs.get(shard)
                        if output is None:
                            path = layout.shard_dir(shard) / f"m{bucket:05d}.ndjson"
                            output = outputs[shard] = open(path, "wb")  # noqa: SIM115 (closed below)
                        output.write(b"M:" + medication + b"\t" + data)  # `data` keeps its line end
                        written += 1
    finally:
        for output in outputs.values():
            output.close()
    return written
