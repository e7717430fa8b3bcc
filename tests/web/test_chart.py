"""A plan as an SVG staircase (cds/web/chart.py)."""

from __future__ import annotations

import re
from datetime import date

import pytest

from cds.web.chart import (
    BOTTOM,
    HEIGHT,
    LEFT,
    RIGHT,
    TOP,
    WIDTH,
    Step,
    _nice_top,
    staircase,
)

STEPS = [Step(date(2026, 11, 23), date(2026, 12, 21), 135), Step(date(2026, 12, 21), date(2027, 1, 18), 121.5),
         Step(date(2027, 1, 18), date(2027, 2, 15), 0)]


def test_nothing_to_draw() -> None:
    assert staircase([], "t", "MME/day", "MME/day") is None


def test_the_staircase_runs_from_the_first_step_to_the_end_of_the_last() -> None:
    chart = staircase(STEPS, "Taper: MME per day over time", "MME/day", "MME/day")
    assert chart is not None
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", chart.path)]
    assert chart.path.startswith(f"M{LEFT:.1f},")
    assert numbers[-1] == WIDTH - RIGHT  # the last horizontal run ends at the right edge
    # only vertical and horizontal moves: a staircase, not a line between points
    assert set(re.findall(r"[A-Za-z]", chart.path)) == {"M", "V", "H"}
    ys = [marker.y for marker in chart.markers]
    assert ys == sorted(ys)  # a taper goes down: y grows down the SVG
    assert ys[-1] == HEIGHT - BOTTOM  # the stop is at 0, on the axis
    assert [m.label for m in chart.markers] == ["2026-11-23: 135 MME/day", "2026-12-21: 121.5 MME/day",
                                                "2027-01-18: 0 MME/day"]


def test_axes_are_labelled_with_dates_and_values() -> None:
    chart = staircase(STEPS, "t", "MME/day", "MME/day")
    assert chart is not None
    labels = [tick.label for tick in chart.x_ticks]
    assert labels[0] == "2026-11-23" and labels[-1] == "2027-02-15"
    assert all(b.at - a.at >= 90 for a, b in zip(chart.x_ticks, chart.x_ticks[1:])), "date labels overlap"
    assert [tick.label for tick in chart.y_ticks] == ["0", "50", "100", "150"]
    assert chart.y_ticks[0].at == HEIGHT - BOTTOM and chart.y_ticks[-1].at == TOP
    assert chart.x_label == "date" and chart.y_label == "MME/day"
    assert "From 135 MME/day on 2026-11-23 to 0 MME/day on 2027-01-18, in 3 steps." == chart.description


@pytest.mark.parametrize(("largest", "top"), [(0, 1), (4.5, 6), (60, 60), (135, 150), (0.002, 0.002), (7, 8),
                                               (1000, 1000)])
def test_the_value_axis_ends_on_a_round_number(largest: float, top: float) -> None:
    assert _nice_top(largest) == pytest.approx(top)


def test_a_single_step_still_draws() -> None:
    chart = staircase([Step(date(2026, 11, 23), date(2026, 11, 23), 1.5)], "t", "mg/day", "mg/day")
    assert chart is not None and chart.markers and chart.x_ticks
