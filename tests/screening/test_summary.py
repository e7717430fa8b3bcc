"""Counts per rule and severity, merged across shards, as CSV and as a terminal table."""

from __future__ import annotations

import csv
from pathlib import Path

from cds.screening.summary import Summary

OPI = {"rule": "LDN-OPI-001", "category": "opioid-conflict", "severity": "critical", "summary": "s"}
DQ = {"rule": "LDN-DQ-001", "category": "data-quality", "severity": "warning", "summary": "s"}
TIT = {"rule": "LDN-DQ-003", "category": "data-quality", "severity": "info", "summary": "s"}


def counted(*lines: dict) -> Summary:
    summary = Summary()
    for line in lines:
        summary.add_patient(line)
    return summary


def test_patients_and_alerts_are_counted_per_rule_and_severity() -> None:
    first = counted({"patient": "a", "alerts": [OPI, DQ]}, {"patient": "b", "alerts": []})
    second = counted({"patient": "c", "alerts": [DQ, {**DQ, "summary": "another"}, TIT]},
                     {"patient": "d", "alerts": [], "error": "ldn-review: ..."})
    first.merge(second)
    assert (first.patients, first.patients_with_alerts, first.patients_with_data_quality,
            first.patients_with_errors) == (4, 2, 2, 1)
    assert first.rule_rows() == [("LDN-OPI-001", "opioid-conflict", "critical", 1, 1),
                                 ("LDN-DQ-001", "data-quality", "warning", 3, 2),
                                 ("LDN-DQ-003", "data-quality", "info", 1, 1)]


def test_the_csv_has_the_totals_then_a_row_per_rule(tmp_path: Path) -> None:
    summary = counted({"patient": "a", "alerts": [OPI]})
    summary.as_of, summary.malformed_lines = "2026-11-23T12:00:00+00:00", 2
    summary.write_csv(tmp_path / "s.csv")
    rows = list(csv.reader((tmp_path / "s.csv").read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["measure", "rule", "category", "severity", "value"]
    assert ["as of", "", "", "", "2026-11-23T12:00:00+00:00"] in rows
    assert ["patients screened", "", "", "", "1"] in rows
    assert ["malformed lines", "", "", "", "2"] in rows
    assert rows[-2:] == [["alerts", "LDN-OPI-001", "opioid-conflict", "critical", "1"],
                         ["patients with alert", "LDN-OPI-001", "opioid-conflict", "critical", "1"]]


def test_the_table_is_short_and_says_when_there_is_nothing() -> None:
    summary = counted({"patient": "a", "alerts": [OPI]})
    summary.as_of, summary.seconds = "2026-11-23T12:00:00+00:00", 2.0
    table = summary.table()
    assert table.splitlines()[0] == "Screened 1 patients as of 2026-11-23T12:00:00+00:00 in 2.0 s (0 patients/s)"
    assert "LDN-OPI-001" in table and len(table.splitlines()) < 15
    assert "No alerts." in counted({"patient": "a", "alerts": []}).table()
