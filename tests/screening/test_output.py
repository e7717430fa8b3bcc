"""The output: every part merged in patient id order, whatever the number of shards."""

from __future__ import annotations

from pathlib import Path

from cds.screening.layout import plan
from cds.screening.output import merge_parts


def test_parts_sorted_by_patient_id_merge_into_one_sorted_file(tmp_path: Path) -> None:
    layout = plan(tmp_path / "work", 0, slots=1, shards=3)
    layout.create()
    layout.part_file(0).write_bytes(b'a\t{"patient":"a"}\nd\t{"patient":"d"}\n')
    layout.part_file(1).write_bytes(b"")
    layout.part_file(2).write_bytes(b'b\t{"patient":"b"}\nc\t{"patient":"c"}\ne\t{"patient":"e"}\n')
    out = tmp_path / "alerts.ndjson"
    merge_parts(layout, out)
    assert out.read_bytes() == b"".join(b'{"patient":"%s"}\n' % p for p in (b"a", b"b", b"c", b"d", b"e"))
    assert [p.name for p in tmp_path.iterdir() if p.is_file()] == ["alerts.ndjson"]  # no partial file left
