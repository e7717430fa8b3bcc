"""Reading NDJSON in chunks: every line once, numbered as in the file, over-long lines skipped."""

from __future__ import annotations

from pathlib import Path

import pytest

from cds.screening.ndjson import Line, Lines

TEXT = b'\xef\xbb\xbf{"a":1}\n\n' + b"x" * 50 + b'\n{"b":2}\r\n  \n{"c":3}'
EXPECTED = [Line(1, b'{"a":1}'), Line(3, None), Line(4, b'{"b":2}'), Line(6, b'{"c":3}')]


def read_in_chunks(path: Path, chunk: int, limit: int) -> tuple[list[Line], int]:
    size = path.stat().st_size
    found: list[Line] = []
    offset = 0
    for start in range(0, size, chunk):
        lines = Lines(path, start, min(start + chunk, size), limit=limit)
        found += [Line(line.number + offset, line.data) for line in lines]
        offset += lines.count
    return found, offset


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 11, 50, 61, 1000])
def test_chunks_of_any_size_read_every_line_once_with_its_number_in_the_file(tmp_path: Path, chunk: int) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(TEXT)
    assert read_in_chunks(path, chunk, limit=20) == (EXPECTED, 6)


def test_the_whole_file_by_default_without_bom_or_line_ends(tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(TEXT)
    lines = Lines(path, limit=20)
    assert list(lines) == EXPECTED
    assert lines.count == 6


def test_a_line_longer_than_the_limit_is_never_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "a.ndjson"
    path.write_bytes(b"y" * (3 << 20) + b'\n{"ok":true}\n')
    assert list(Lines(path, limit=1024)) == [Line(1, None), Line(2, b'{"ok":true}')]


def test_an_empty_file_has_no_lines(tmp_path: Path) -> None:
    path = tmp_path / "empty.ndjson"
    path.write_bytes(b"")
    lines = Lines(path, 0, 0)
    assert list(lines) == [] and lines.count == 0
