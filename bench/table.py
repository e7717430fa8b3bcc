"""What every benchmark shares: rows and sections, the two ways they are shown (terminal,
Markdown), and how busy the machine is.

A section module exposes `run(quick: bool) -> Section`; bench/run.py gathers the sections into one
table. A row is (measure, value, unit, target, result): `result` says whether the target is met,
or gives a ratio (e.g. "5.5x floor") when a row has no target.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    measure: str
    value: float
    unit: str
    target: str = ""
    result: str = ""


@dataclass
class Section:
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # method and context, shown under the table


def number(value: float) -> str:
    """Three significant figures for small values, thousands separators for large ones."""
    if math.isnan(value):
        return "n/a"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1 or magnitude == 0:
        return f"{value:.2f}"
    return f"{value:.3f}"


def at_most(limit: float, value: float, unit: str = "") -> tuple[str, str]:
    """(target, result) for "lower is better" figures."""
    return f"<= {number(limit)} {unit}".rstrip(), _verdict(value <= limit, value / limit)


def at_least(limit: float, value: float, unit: str = "") -> tuple[str, str]:
    """(target, result) for "higher is better" figures."""
    return f">= {number(limit)} {unit}".rstrip(), _verdict(value >= limit, value / limit)


def _verdict(met: bool, ratio: float) -> str:
    return f"met ({ratio:.2f}x target)" if met else f"MISSED ({ratio:.2f}x target)"


_HEADER = ("measure", "value", "unit", "target", "result")


def _cells(row: Row) -> tuple[str, ...]:
    return row.measure, number(row.value), row.unit, row.target, row.result


def terminal(sections: list[Section]) -> str:
    """One aligned plain-text table, a heading line per section, notes after the table."""
    cells = [_cells(row) for section in sections for row in section.rows]
    widths = [max(len(line[i]) for line in [_HEADER, *cells]) for i in range(len(_HEADER))]

    def line(values: tuple[str, ...]) -> str:
        # Values are right-aligned (numbers), everything else left-aligned.
        return "  ".join(v.rjust(w) if i == 1 else v.ljust(w) for i, (v, w) in enumerate(zip(values, widths))).rstrip()

    out = [line(_HEADER), line(tuple("-" * w for w in widths))]
    for number_, section in enumerate(sections, 1):
        out.append(f"[{number_}] {section.title}")
        out += [line(_cells(row)) for row in section.rows]
    for number_, section in enumerate(sections, 1):
        if section.notes:
            out += ["", f"[{number_}] {section.title}"] + [f"  - {note}" for note in section.notes]
    return "\n".join(out)


def markdown(sections: list[Section]) -> str:
    """One Markdown table (a bold row per section), then each section's notes."""
    out = ["| measure | value | unit | target | result |", "|---|---:|---|---|---|"]
    for number_, section in enumerate(sections, 1):
        out.append(f"| **{number_}. {section.title}** | | | | |")
        out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in _cells(row)) + " |" for row in section.rows]
    for number_, section in enumerate(sections, 1):
        if section.notes:
            out += ["", f"### {number_}. {section.title}", ""] + [f"- {note}" for note in section.notes]
    return "\n".join(out)


def machine_busy_seconds() -> float:
    """CPU time spent on all cores so far, by every process (user, system, interrupts, steal)."""
    with open("/proc/stat") as stat:
        fields = [int(value) for value in stat.readline().split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (fields + [0] * 8)[:8]
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")
