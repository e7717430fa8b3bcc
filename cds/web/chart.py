"""A plan over time as an inline SVG staircase, drawn on the server (no JavaScript).

`staircase` turns steps (from, until, value) into a `Chart`: the path, the step markers and the
axes' ticks, in the SVG's own coordinates; `templates/web/_chart.html` draws it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from ..model import format_number

WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 44, 20, 56  # margins: room for the value labels and the dates
MIN_TICK_GAP = 96  # SVG units between date labels (an ISO date is about 70 wide)


@dataclass(frozen=True, slots=True)
class Step:
    start: date
    until: date  # the day the next step starts (exclusive)
    value: float


@dataclass(frozen=True, slots=True)
class Tick:
    at: float  # x or y in SVG units
    label: str


@dataclass(frozen=True, slots=True)
class Marker:
    x: float
    y: float
    label: str  # "2026-11-23: 135 MME/day", shown as the marker's tooltip


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    description: str
    x_label: str
    y_label: str
    path: str  # the staircase, an SVG path
    markers: tuple[Marker, ...]
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def staircase(steps: Sequence[Step], title: str, y_label: str, unit: str) -> Chart | None:
    """The steps as a staircase chart; None when there is nothing to draw."""
    if not steps:
        return None
    first, last = steps[0].start, max(step.until for step in steps)
    days = max((last - first).days, 1)
    top_value = _nice_top(max(step.value for step in steps))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return round(LEFT + plot_width * (day - first).days / days, 1)

    def y(value: float) -> float:
        return round(TOP + plot_height * (1 - value / top_value), 1)

    parts = [f"M{x(steps[0].start)},{y(steps[0].value)}"]
    for step in steps:
        parts.append(f"V{y(step.value)}")
        parts.append(f"H{x(step.until)}")
    markers = tuple(Marker(x(step.start), y(step.value),
                           f"{step.start.isoformat()}: {format_number(step.value)} {unit}") for step in steps)
    description = (f"From {format_number(steps[0].value)} {unit} on {first.isoformat()} to "
                   f"{format_number(steps[-1].value)} {unit} on {steps[-1].start.isoformat()}, in {len(steps)} steps.")
    return Chart(title=title, description=description, x_label="date", y_label=y_label, path=" ".join(parts),
                 markers=markers, x_ticks=_date_ticks([s.start for s in steps] + [last], x),
                 y_ticks=tuple(Tick(y(value), format_number(value)) for value in _values(top_value)))


def _nice_top(largest: float) -> float:
    """The axis' top: a round number at or above the largest value (1, 2, 2.5 or 5 times a power of ten)."""
    if largest <= 0:
        return 1.0
    step = _nice_step(largest / 4)
    return step * math.ceil(largest / step - 1e-9)


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw))
    return next(f * magnitude for f in (1, 2, 2.5, 5, 10) if f * magnitude >= raw - 1e-12)


def _values(top: float) -> list[float]:
    step = _nice_step(top / 4)
    count = round(top / step)
    return [round(step * i, 10) for i in range(count + 1)]


def _date_ticks(days: list[date], x: Callable[[date], float]) -> tuple[Tick, ...]:
    """The first and last dates, and step dates between them far enough apart to be read."""
    unique = sorted(set(days))
    chosen: list[tuple[float, date]] = []
    for day in unique:
        at = x(day)
        if not chosen or at - chosen[-1][0] >= MIN_TICK_GAP:
            chosen.append((at, day))
    last = (x(unique[-1]), unique[-1])
    if chosen[-1] != last:
        if len(chosen) > 1 and last[0] - chosen[-1][0] < MIN_TICK_GAP:
            chosen.pop()
        chosen.append(last)
    return tuple(Tick(at, day.isoformat()) for at, day in chosen)
