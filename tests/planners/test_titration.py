"""LDN titration planner: protocols by hand, adjustments, formulations, errors, and invariants."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from fractions import Fraction

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cds.planners.titration import (
    DATA_PATH,
    Adjustment,
    TitrationError,
    TitrationPlan,
    TitrationRequest,
    plan_titration,
    protocol_names,
)
from cds.rulebook import RULES_DIR

D0 = date(2026, 1, 1)


def rows(plan: TitrationPlan) -> list[tuple[str, str, float, str]]:
    return [(s.start.isoformat(), s.end.isoformat(), s.dose_mg, s.dispense) for s in plan.steps]


def d(month: int, day: int) -> date:
    return date(2026, month, day)


# --- data -------------------------------------------------------------------------------------------


def test_data_cites_only_known_sources() -> None:
    known = set(yaml.safe_load((RULES_DIR / "reference" / "sources.yaml").read_text())["sources"])
    data = yaml.safe_load(DATA_PATH.read_text())
    cited: set[str] = set(data["limits"]["usual_max_sources"])
    for section in ("protocols", "time_of_day", "formulations", "adjustments"):
        for entry in data[section].values():
            cited |= set(entry["sources"])
    for note in data["plan_notes"]:
        cited |= set(note["sources"])
    assert cited <= known
    assert protocol_names() == ("seed-001-4-weeks", "practice-weekly", "practice-fortnightly")


def test_plan_sources_are_known_ids() -> None:
    known = set(yaml.safe_load((RULES_DIR / "reference" / "sources.yaml").read_text())["sources"])
    plan = plan_titration(TitrationRequest(start=D0, formulation="liquid", adjustments=(
        Adjustment("side-effects", d(1, 5)), Adjustment("sleep-disturbance", d(1, 6)), Adjustment("gi-effects", d(2, 1)))))
    assert set(plan.sources) <= known
    assert {"seed:001", "seed:004"} <= set(plan.sources)


# --- protocols by hand ------------------------------------------------------------------------------


def test_seed_001_default_is_1_5_mg_for_4_weeks_then_3_then_4_5() -> None:
    plan = plan_titration(TitrationRequest(start=D0))
    assert plan.protocol == "seed-001-4-weeks"
    assert rows(plan) == [
        ("2026-01-01", "2026-01-28", 1.5, "1 × 1.5 mg capsule at bedtime"),
        ("2026-01-29", "2026-02-25", 3.0, "1 × 3 mg capsule at bedtime"),
        ("2026-02-26", "2026-03-25", 4.5, "1 × 4.5 mg capsule at bedtime"),
    ]
    assert [s.number for s in plan.steps] == [1, 2, 3]
    assert all(s.time_of_day == "bedtime" and s.note is None for s in plan.steps)
    assert plan.notes[0] == "Continue 4.5 mg at bedtime after 2026-03-25."
    assert "Benefit usually needs 3–6 months of consistent use (seed:001)." in plan.notes
    assert plan.sources[0] == "seed:001"


def test_practice_weekly_steps_every_7_days_from_0_5_mg() -> None:
    plan = plan_titration(TitrationRequest(start=D0, protocol="practice-weekly"))
    assert [s.dose_mg for s in plan.steps] == [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]
    assert [(s.start, s.end) for s in plan.steps[:2]] == [(d(1, 1), d(1, 7)), (d(1, 8), d(1, 14))]
    assert plan.steps[-1].start == d(2, 26) and plan.steps[-1].end == d(3, 4)
    assert plan.steps[0].dispense == "1 × 0.5 mg capsule at bedtime"


def test_practice_weekly_with_1_mg_start_and_1_mg_step_stops_at_target() -> None:
    plan = plan_titration(TitrationRequest(start=D0, protocol="practice-weekly", start_mg=1, step_mg=1))
    assert [s.dose_mg for s in plan.steps] == [1, 2, 3, 4, 4.5]  # the last step is clamped to the target
    assert plan.steps[-1].end == d(2, 4)


def test_practice_fortnightly_steps_every_14_days() -> None:
    plan = plan_titration(TitrationRequest(start=D0, protocol="practice-fortnightly", target_mg=1.5))
    assert rows(plan) == [
        ("2026-01-01", "2026-01-14", 0.5, "1 × 0.5 mg capsule at bedtime"),
        ("2026-01-15", "2026-01-28", 1.0, "1 × 1 mg capsule at bedtime"),
        ("2026-01-29", "2026-02-11", 1.5, "1 × 1.5 mg capsule at bedtime"),
    ]


def test_interval_override_applies_to_every_step_and_start_equal_target_is_one_step() -> None:
    plan = plan_titration(TitrationRequest(start=D0, interval_days=10))
    assert [(s.start, s.end, s.dose_mg) for s in plan.steps] == [
        (d(1, 1), d(1, 10), 1.5), (d(1, 11), d(1, 20), 3.0), (d(1, 21), d(1, 30), 4.5)]
    single = plan_titration(TitrationRequest(start=D0, target_mg=1.5))
    assert rows(single) == [("2026-01-01", "2026-01-28", 1.5, "1 × 1.5 mg capsule at bedtime")]


def test_morning_request_and_explicit_target_above_usual_max() -> None:
    plan = plan_titration(TitrationRequest(start=D0, time_of_day="morning", target_mg=6, allow_above_usual_max=True))
    assert [s.dose_mg for s in plan.steps] == [1.5, 3, 4.5, 6]
    assert plan.steps[-1].dispense == "2 × 3 mg capsules in the morning"  # ties: fewer distinct strengths
    assert any("above the usual LDN range" in n for n in plan.notes)
    assert "design" in plan.sources


# --- formulations -----------------------------------------------------------------------------------


def test_capsules_fewest_from_the_strengths_given() -> None:
    plan = plan_titration(TitrationRequest(start=D0, start_mg=0.5, step_mg=1.5, target_mg=4,
                                           capsule_strengths=(0.5, 1.5), protocol="practice-fortnightly"))
    assert [s.dispense for s in plan.steps] == [
        "1 × 0.5 mg capsule at bedtime",
        "1 × 1.5 mg capsule + 1 × 0.5 mg capsule at bedtime",
        "2 × 1.5 mg capsules + 1 × 0.5 mg capsule at bedtime",
        "2 × 1.5 mg capsules + 2 × 0.5 mg capsules at bedtime",
    ]


def test_liquid_in_millilitres_at_the_given_concentration() -> None:
    plan = plan_titration(TitrationRequest(start=D0, formulation="liquid"))
    assert [s.dispense for s in plan.steps] == [
        "1.5 mL of 1 mg/mL liquid at bedtime", "3 mL of 1 mg/mL liquid at bedtime",
        "4.5 mL of 1 mg/mL liquid at bedtime"]
    assert any("fridge" in n for n in plan.notes)
    stronger = plan_titration(TitrationRequest(start=D0, formulation="liquid", liquid_mg_per_ml=2.5))
    assert stronger.steps[0].dispense == "0.6 mL of 2.5 mg/mL liquid at bedtime"


def test_drops_whole_drops_default_20_per_ml_and_custom() -> None:
    plan = plan_titration(TitrationRequest(start=D0, formulation="drops"))
    # default solution 10 mg/mL at 20 drops/mL: 0.5 mg a drop (1 mg/mL would need 90 drops for 4.5 mg)
    assert plan.steps[0].dispense == "3 drops of 10 mg/mL solution (20 drops/mL) under the tongue at bedtime"
    assert plan.steps[-1].dispense.startswith("9 drops")
    assert plan_titration(TitrationRequest(start=D0, formulation="drops", start_mg=0.5)).steps[0].dispense.startswith(
        "1 drop of ")
    custom = plan_titration(TitrationRequest(start=D0, formulation="drops", drops_per_ml=10, liquid_mg_per_ml=3))
    assert [s.dispense.split(" drops")[0] for s in custom.steps] == ["5", "10", "15"]


# --- adjustments ------------------------------------------------------------------------------------


def test_side_effects_halve_for_7_days_then_resume_shifted() -> None:
    plan = plan_titration(TitrationRequest(start=D0, adjustments=(Adjustment("side-effects", d(2, 5)),)))
    assert rows(plan) == [
        ("2026-01-01", "2026-01-28", 1.5, "1 × 1.5 mg capsule at bedtime"),
        ("2026-01-29", "2026-02-04", 3.0, "1 × 3 mg capsule at bedtime"),
        ("2026-02-05", "2026-02-11", 1.5, "1 × 1.5 mg capsule at bedtime"),
        ("2026-02-12", "2026-03-04", 3.0, "1 × 3 mg capsule at bedtime"),  # the remaining 21 days of 3 mg
        ("2026-03-05", "2026-04-01", 4.5, "1 × 4.5 mg capsule at bedtime"),  # 7 days later than planned
    ]
    assert plan.steps[2].note == "halved for 7 days for side effects (3 mg → 1.5 mg), then the schedule resumes"
    assert plan.steps[3].note is None


def test_side_effects_half_rounded_down_when_not_dispensable() -> None:
    plan = plan_titration(TitrationRequest(start=D0, adjustments=(Adjustment("side-effects", D0),)))
    first = plan.steps[0]
    assert (first.start, first.end, first.dose_mg) == (d(1, 1), d(1, 7), 0.5)
    assert "1.5 mg → 0.5 mg; half, 0.75 mg, cannot be dispensed, rounded down" in (first.note or "")
    liquid = plan_titration(TitrationRequest(start=D0, formulation="liquid", adjustments=(Adjustment("side-effects", D0),)))
    assert liquid.steps[0].dose_mg == 0.7 and liquid.steps[0].dispense == "0.7 mL of 1 mg/mL liquid at bedtime"


def test_second_side_effect_report_restarts_the_window() -> None:
    plan = plan_titration(TitrationRequest(start=D0, adjustments=(
        Adjustment("side-effects", d(2, 5)), Adjustment("side-effects", d(2, 8)))))
    assert [(s.start, s.end, s.dose_mg) for s in plan.steps][1:5] == [
        (d(1, 29), d(2, 4), 3.0), (d(2, 5), d(2, 7), 1.5), (d(2, 8), d(2, 14), 1.5), (d(2, 15), d(3, 7), 3.0)]
    assert plan.steps[-1].end == d(4, 4)  # 10 days later than planned


def test_sleep_disturbance_moves_to_the_morning_from_that_date() -> None:
    plan = plan_titration(TitrationRequest(start=D0, adjustments=(Adjustment("sleep-disturbance", d(1, 15)),)))
    assert [(s.start, s.end, s.dose_mg, s.time_of_day) for s in plan.steps] == [
        (d(1, 1), d(1, 14), 1.5, "bedtime"), (d(1, 15), d(1, 28), 1.5, "morning"),
        (d(1, 29), d(2, 25), 3.0, "morning"), (d(2, 26), d(3, 25), 4.5, "morning")]
    assert plan.steps[1].note == "moved to the morning for sleep disturbance"
    assert plan.steps[1].dispense == "1 × 1.5 mg capsule in the morning"
    assert plan.notes[0] == "Continue 4.5 mg in the morning after 2026-03-25."
    already = plan_titration(TitrationRequest(start=D0, time_of_day="morning",
                                              adjustments=(Adjustment("sleep-disturbance", d(1, 15)),)))
    assert len(already.steps) == 3 and all(s.note is None for s in already.steps)


def test_gi_effects_hold_at_the_dose_taken_the_day_before() -> None:
    plan = plan_titration(TitrationRequest(start=D0, adjustments=(Adjustment("gi-effects", d(1, 29)),)))
    assert rows(plan) == [
        ("2026-01-01", "2026-01-28", 1.5, "1 × 1.5 mg capsule at bedtime"),
        ("2026-01-29", "2026-03-25", 1.5, "1 × 1.5 mg capsule at bedtime"),
    ]
    assert plan.steps[1].note == "held at the best-tolerated dose (GI effects); consider sublingual drops"
    assert any("Titration stopped at 1.5 mg because of GI effects on 2026-01-29" in n for n in plan.notes)
    later = plan_titration(TitrationRequest(start=D0, adjustments=(Adjustment("gi-effects", d(2, 10)),)))
    assert [(s.start, s.end, s.dose_mg) for s in later.steps] == [
        (d(1, 1), d(1, 28), 1.5), (d(1, 29), d(2, 9), 3.0), (d(2, 10), d(3, 25), 3.0)]
    drops = plan_titration(TitrationRequest(start=D0, formulation="drops", adjustments=(Adjustment("gi-effects", D0),)))
    assert len(drops.steps) == 1 and drops.steps[0].dose_mg == 1.5
    assert drops.steps[0].note == "held at the best-tolerated dose (GI effects)"


def test_adjustments_combine_in_date_order() -> None:
    plan = plan_titration(TitrationRequest(start=D0, formulation="liquid", protocol="practice-weekly", adjustments=(
        Adjustment("sleep-disturbance", d(1, 20)), Adjustment("side-effects", d(1, 10)))))
    assert [(s.start, s.end, s.dose_mg, s.time_of_day) for s in plan.steps][:6] == [
        (d(1, 1), d(1, 7), 0.5, "bedtime"), (d(1, 8), d(1, 9), 1.0, "bedtime"),
        (d(1, 10), d(1, 16), 0.5, "bedtime"), (d(1, 17), d(1, 19), 1.0, "bedtime"),
        (d(1, 20), d(1, 21), 1.0, "morning"), (d(1, 22), d(1, 28), 1.5, "morning")]


# --- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "message"), [
    ({"target_mg": 6}, "above the usual LDN maximum"),
    ({"target_mg": 25, "allow_above_usual_max": True}, "not low-dose naltrexone"),
    ({"target_mg": 0}, "target_mg must be above 0"),
    ({"start_mg": 3, "target_mg": 2}, "above the target"),
    ({"start_mg": 0}, "start_mg must be above 0"),
    ({"step_mg": 0}, "step_mg must be above 0"),
    ({"step_mg": -1}, "step_mg must be above 0"),
    ({"interval_days": 0}, "interval_days"),
    ({"protocol": "fast"}, "unknown protocol 'fast'"),
    ({"formulation": "cream"}, "unknown formulation 'cream'"),
    ({"time_of_day": "noon"}, "unknown time_of_day"),
    ({"capsule_strengths": (3, 4.5)}, "1.5 mg cannot be dispensed as capsules of 4.5, 3 mg"),
    ({"capsule_strengths": ()}, "capsule_strengths"),
    ({"formulation": "drops", "drops_per_ml": 0}, "drops_per_ml must be above 0"),
    ({"formulation": "liquid", "start_mg": 1.25}, "1.25 mg cannot be dispensed as 1 mg/mL liquid"),
    ({"step_mg": 0.01, "start_mg": 0.5}, "more than 52 steps"),
    ({"target_mg": "4.5"}, "target_mg must be a number"),
    ({"adjustments": (Adjustment("rash", D0),)}, "unknown adjustment 'rash'"),
    ({"adjustments": (Adjustment("side-effects", d(12, 31)),)}, "after the plan ends (2026-03-25)"),
    ({"adjustments": (Adjustment("side-effects", date(2025, 12, 31)),)}, "before the plan starts"),
    ({"capsule_strengths": (1.5,), "target_mg": 3,
      "adjustments": (Adjustment("side-effects", D0),)}, "half of 1.5 mg (0.75 mg) cannot be dispensed"),
])
def test_requests_that_cannot_be_planned(changes: dict, message: str) -> None:
    with pytest.raises(TitrationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        plan_titration(TitrationRequest(start=D0, **changes))


# --- invariants -------------------------------------------------------------------------------------

STRENGTH_SETS = [None, (0.5, 1.5), (0.5,), (0.25, 1, 3)]


@st.composite
def requests(draw: st.DrawFn) -> TitrationRequest:
    protocol = draw(st.sampled_from(protocol_names()))
    formulation = draw(st.sampled_from(["capsule", "liquid", "drops"]))
    target = draw(st.sampled_from([1.0, 1.5, 2.0, 3.0, 3.5, 4.5]))
    start_mg = draw(st.sampled_from([0.5, 1.0, 1.5]).filter(lambda s: s <= target))
    step = draw(st.sampled_from([0.5, 1.0, 1.5]))
    interval = draw(st.one_of(st.none(), st.integers(1, 21)))
    base = TitrationRequest(start=D0, target_mg=target, start_mg=start_mg, step_mg=step, interval_days=interval,
                            protocol=protocol, formulation=formulation,
                            capsule_strengths=draw(st.sampled_from(STRENGTH_SETS)),
                            time_of_day=draw(st.sampled_from(["bedtime", "morning"])))
    span = (plan_titration(base).steps[-1].end - D0).days
    kinds = draw(st.lists(st.sampled_from(["side-effects", "sleep-disturbance", "gi-effects"]), max_size=3))
    adjustments = tuple(Adjustment(k, D0 + timedelta(days=draw(st.integers(0, span)))) for k in kinds)
    return replace(base, adjustments=adjustments)


def _dispensable(request: TitrationRequest, dose: float) -> bool:
    mg = Fraction(str(dose))
    if request.formulation == "liquid":  # 0.1 mL of the liquid (default 1 mg/mL)
        return (mg / Fraction(str(request.liquid_mg_per_ml or 1)) * 10).denominator == 1
    if request.formulation == "drops":  # whole drops, 20 a mL, of the solution (default 10 mg/mL)
        return (mg / Fraction(str(request.liquid_mg_per_ml or 10)) * 20).denominator == 1
    strengths = [Fraction(str(s)) for s in (request.capsule_strengths or (0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5))]
    reachable = {Fraction(0)}
    while True:
        more = {r + s for r in reachable for s in strengths if r + s <= mg} - reachable
        if not more:
            return mg in reachable
        reachable |= more


def _plan_or_none(request: TitrationRequest) -> TitrationPlan | None:
    try:
        return plan_titration(request)
    except TitrationError as error:  # only what the rules say cannot be planned
        assert "cannot be dispensed" in str(error)
        return None


@settings(max_examples=150)
@given(requests())
def test_invariants(request: TitrationRequest) -> None:
    plan = _plan_or_none(request)
    if plan is None:
        return
    steps = plan.steps
    kinds = {a.kind for a in request.adjustments}
    # contiguous dates, numbered from 1, each step at least one day
    assert steps[0].start == request.start
    for i, step in enumerate(steps):
        assert step.number == i + 1 and step.start <= step.end
        if i:
            assert step.start == steps[i - 1].end + timedelta(days=1)
    # never above the target; every dose dispensable and described
    assert all(0 < s.dose_mg <= request.target_mg for s in steps)
    assert all(_dispensable(request, s.dose_mg) for s in steps)
    assert all(s.dispense.endswith("at bedtime" if s.time_of_day == "bedtime" else "in the morning") for s in steps)
    # non-decreasing outside side-effect windows, until a GI hold; held steps never rise again
    held = [i for i, s in enumerate(steps) if s.note and "GI effects" in s.note]
    cut = held[0] if held else len(steps)
    outside = [s.dose_mg for s in steps[:cut] if not (s.note and "halved" in s.note)]
    assert outside == sorted(outside)
    if held:
        after = {s.dose_mg for s in steps[cut:] if not (s.note and "halved" in s.note)}
        assert len(after) <= 1
        assert all(dose <= max((s.dose_mg for s in steps[:cut]), default=request.start_mg) for dose in after)
    # the last step reaches the target unless held for GI effects
    if "gi-effects" not in kinds:
        assert steps[-1].dose_mg == request.target_mg
    # morning from the first sleep disturbance on
    if "sleep-disturbance" in kinds:
        first = min(a.on for a in request.adjustments if a.kind == "sleep-disturbance")
        assert all(s.time_of_day == "morning" for s in steps if s.start >= first)
