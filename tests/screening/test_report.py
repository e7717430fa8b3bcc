"""Malformed lines reported as file:line: reason, numbered as in the file across chunks."""

from __future__ import annotations

from pathlib import Path

from cds.screening.inputs import chunks, discover
from cds.screening.layout import plan
from cds.screening.partition import partition_chunk
from cds.screening.report import SHOWN, report_malformed


def test_line_numbers_are_the_files_own_across_chunks_and_files(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    good = b'{"resourceType":"Patient","id":"p1"}\n'
    (export / "Patient.ndjson").write_bytes(good * 3 + b"oops\n" + good * 5 + b"[]\n")
    (export / "Condition.ndjson").write_bytes(b'{"resourceType":"Condition"}\n')
    layout = plan(tmp_path / "work", 0, slots=1, shards=2)
    layout.create()
    pieces = chunks(discover(export), chunk_bytes=64)
    assert len(pieces) > 4
    results = {piece.index: partition_chunk(piece, layout) for piece in pieces}
    shown: list[str] = []
    assert report_malformed(pieces, results, layout, tmp_path / "errors.txt", shown.append) == 3
    report = (tmp_path / "errors.txt").read_text().splitlines()
    assert [line.split(": ", 1)[0] for line in report] == ["Patient.ndjson:4", "Patient.ndjson:10",
                                                           "Condition.ndjson:1"]
    assert report[1] == "Patient.ndjson:10: not a JSON object"
    assert shown == report


def test_the_terminal_gets_the_first_few_and_the_file_all_of_them(tmp_path: Path) -> None:
    export = tmp_path / "export"
    export.mkdir()
    (export / "Patient.ndjson").write_bytes(b"x\n" * (SHOWN + 5))
    layout = plan(tmp_path / "work", 0, slots=1, shards=1)
    layout.create()
    pieces = chunks(discover(export))
    results = {piece.index: partition_chunk(piece, layout) for piece in pieces}
    shown: list[str] = []
    assert report_malformed(pieces, results, layout, tmp_path / "errors.txt", shown.append) == SHOWN + 5
    assert len(shown) == SHOWN + 1 and shown[-1].startswith("... and 5 more malformed lines: see ")
    assert len((tmp_path / "errors.txt").read_text().splitlines()) == SHOWN + 5
