"""The output file: every shard's part merged in patient id order.

Each part is sorted by patient id and a patient is in exactly one shard, so a k-way merge of the
parts is the whole panel sorted by patient id, whatever the number of shards or workers: the same
input and `--as-of` give the same file. Written to a temporary name and renamed, so a run that
fails never leaves half an output behind.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

from .layout import Layout


def _key(line: bytes) -> bytes:
    return line[:line.index(b"\t")]


def merge_parts(layout: Layout, out: Path) -> None:
    partial = out.with_name(f".{out.name}.partial")
    with ExitStack() as stack:
        parts: list[Iterator[bytes]] = [iter(stack.enter_context(open(layout.part_file(shard), "rb")))
                                        for shard in range(layout.shards) if layout.part_file(shard).exists()]
        try:
            with open(partial, "wb", buffering=1 << 20) as output:
                for line in heapq.merge(*parts, key=_key):
                    output.write(line[line.index(b"\t") + 1:])
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    os.replace(partial, out)
