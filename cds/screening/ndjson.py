"""Lines of an NDJSON file, read with bounded memory.

A chunk of a file is the lines that start within its byte range, so that chunks read in parallel
together read every line exactly once. A line longer than the limit is skipped (reported by the
caller), never loaded whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import orjson

MAX_LINE_BYTES = 32 * 1024 * 1024  # a whole patient's Bundle fits; a runaway line does not
_BOM = b"\xef\xbb\xbf"

loads = orjson.loads  # RFC 8259 strictly: NaN, Infinity and invalid UTF-8 are refused
JSONDecodeError = orjson.JSONDecodeError


@dataclass(frozen=True, slots=True)
class Line:
    number: int  # 1-based, within the chunk
    data: bytes | None  # without the line end; None when the line is longer than the limit


class Lines:
    """The non-blank lines that start in [start, end) of `path` (the whole file by default), read
    once; `count` is then how many lines were numbered, blank ones included."""

    def __init__(self, path: Path | str, start: int = 0, end: int | None = None,
                 limit: int = MAX_LINE_BYTES) -> None:
        self.path, self.start, self.end, self.limit = path, start, end, limit
        self.count = 0

    def __iter__(self) -> Iterator[Line]:
        end, limit = self.end, self.limit
        with open(self.path, "rb", buffering=1 << 20) as handle:
            if self.start > 0:
                handle.seek(self.start - 1)
                _skip_line(handle)  # the line that began before `start` belongs to the chunk before
            position = handle.tell()
            while end is None or position < end:
                raw = handle.readline(limit + 1)
                if not raw:
                    return
                self.count += 1
                size = len(raw)
                if size > limit and not raw.endswith(b"\n"):
                    position += size + _skip_line(handle)
                    yield Line(self.count, None)
                    continue
                if position == 0 and raw.startswith(_BOM):
                    raw = raw[len(_BOM):]
                position += size
                data = raw.rstrip(b"\r\n")
                if data and not data.isspace():
                    yield Line(self.count, data)


def _skip_line(handle: BinaryIO) -> int:
    """Read to the end of the current line, a block at a time; the bytes read."""
    skipped = 0
    while True:
        block = handle.readline(1 << 20)
        skipped += len(block)
        if not block or block.endswith(b"\n"):
            return skipped
