"""Malformed lines, as `file:line: reason`: to the errors file, and the first few to the terminal.

Chunks number their lines from 1; a line's number in its file is the chunk's number plus the
lines of the file's earlier chunks. Reasons name what is wrong, never the line's content.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from .inputs import Chunk
from .layout import Layout
from .partition import ChunkResult

SHOWN = 20  # on the terminal; the errors file has every one


def report_malformed(chunks: Sequence[Chunk], results: Mapping[int, ChunkResult], layout: Layout, path: Path,
                     echo: Callable[[str], None]) -> int:
    """Write the errors file (always, empty when every line was read); the number of malformed lines."""
    offset = 0
    reported = 0
    with open(path, "w", encoding="utf-8") as output:
        for chunk in sorted(chunks, key=lambda c: c.index):
            if chunk.first:
                offset = 0
            result = results[chunk.index]
            if result.malformed:
                with open(layout.errors_file(chunk.index), encoding="utf-8") as errors:
                    for entry in errors:
                        number, reason = entry.rstrip("\n").split("\t", 1)
                        text = f"{chunk.name}:{offset + int(number)}: {reason}"
                        output.write(text + "\n")
                        if reported < SHOWN:
                            echo(text)
                        reported += 1
            offset += result.lines
    if reported > SHOWN:
        echo(f"... and {reported - SHOWN:,} more malformed lines: see {path}")
    return reported
