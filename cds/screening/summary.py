"""What a screening run found, in counts: per rule and severity, and for the run as a whole.

Each shard counts its own patients; the driver merges the counts (`merge`) and adds what reading
found (malformed lines, files skipped). Written as CSV for a spreadsheet and as a short table for
the terminal. Counts only: no patient id, name or value ever goes in here.
"""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..alerts import SEVERITY_ORDER

DATA_QUALITY = "data-quality"
RuleKey = tuple[str, str, str]  # (rule id, category, severity)


@dataclass
class Summary:
    patients: int = 0
    patients_with_alerts: int = 0
    patients_with_data_quality: int = 0
    patients_with_errors: int = 0
    alerts: Counter[RuleKey] = field(default_factory=Counter)  # alerts per rule
    alerted_patients: Counter[RuleKey] = field(default_factory=Counter)  # patients with the rule's alert
    lines: int = 0  # lines read, blank ones included
    records: int = 0  # lines grouped under a patient
    malformed_lines: int = 0
    ignored_lines: int = 0  # resources of types screening does not read
    files_skipped: list[str] = field(default_factory=list)
    as_of: str = ""
    seconds: float = 0.0

    def add_patient(self, line: Mapping[str, Any]) -> None:
        """Count one patient's output line."""
        self.patients += 1
        alerts = line.get("alerts") or ()
        if alerts:
            self.patients_with_alerts += 1
        if "error" in line:
            self.patients_with_errors += 1
        seen: set[RuleKey] = set()
        for alert in alerts:
            key = (alert["rule"], alert["category"], alert["severity"])
            self.alerts[key] += 1
            seen.add(key)
        for key in seen:
            self.alerted_patients[key] += 1
        if any(key[1] == DATA_QUALITY for key in seen):
            self.patients_with_data_quality += 1

    def merge(self, other: Summary) -> None:
        for name in ("patients", "patients_with_alerts", "patients_with_data_quality", "patients_with_errors",
                     "lines", "records", "malformed_lines", "ignored_lines"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.alerts.update(other.alerts)
        self.alerted_patients.update(other.alerted_patients)
        self.files_skipped += other.files_skipped

    def rule_rows(self) -> list[tuple[str, str, str, int, int]]:
        """(rule, category, severity, alerts, patients), most severe first, then by rule id."""
        keys = sorted(self.alerts, key=lambda k: (SEVERITY_ORDER.get(k[2], len(SEVERITY_ORDER)), k[0], k[1]))
        return [(*key, self.alerts[key], self.alerted_patients[key]) for key in keys]

    def totals(self) -> list[tuple[str, Any]]:
        return [
            ("as of", self.as_of),
            ("patients screened", self.patients),
            ("patients with alerts", self.patients_with_alerts),
            ("patients with data-quality alerts", self.patients_with_data_quality),
            ("patients not screened (error)", self.patients_with_errors),
            ("malformed lines", self.malformed_lines),
            ("lines read", self.lines),
            ("lines of other resource types", self.ignored_lines),
            ("files skipped", len(self.files_skipped)),
            ("seconds", round(self.seconds, 1)),
        ]

    def write_csv(self, path: Path) -> None:
        """One row per measure, then one per rule and severity: `measure,rule,category,severity,value`."""
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["measure", "rule", "category", "severity", "value"])
            for name, value in self.totals():
                writer.writerow([name, "", "", "", value])
            for rule, category, severity, alerts, patients in self.rule_rows():
                writer.writerow(["alerts", rule, category, severity, alerts])
                writer.writerow(["patients with alert", rule, category, severity, patients])

    def table(self) -> str:
        """A short table for the terminal."""
        rate = f" ({self.patients / self.seconds:,.0f} patients/s)" if self.seconds > 0 and self.patients else ""
        lines = [f"Screened {self.patients:,} patients as of {self.as_of} in {self.seconds:.1f} s{rate}", ""]
        width = 36
        for name, value in self.totals()[2:6]:
            lines.append(f"  {name:<{width}} {value:>10,}")
        rows = self.rule_rows()
        if rows:
            lines += ["", f"  {'rule':<14} {'category':<24} {'severity':<9} {'alerts':>8} {'patients':>9}"]
            lines += [f"  {rule:<14} {category:<24} {severity:<9} {alerts:>8,} {patients:>9,}"
                      for rule, category, severity, alerts, patients in rows]
        else:
            lines += ["", "  No alerts."]
        return "\n".join(lines)
