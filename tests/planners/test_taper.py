"""Opioid weaning taper planner: examples a pharmacist can check, refusals, and invariants."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from cds.planners.taper import (PLANNING_DIR, OpioidDose, TaperError, TaperPlan, TaperRequest, check_taper,
                                plan_taper)

START = date(2026, 1, 5)
CONFIG = yaml.safe_load((PLANNING_DIR / "taper.yaml").read_text(encoding="utf-8"))
TOLERANCE = CONFIG["rounding"]["tolerance percent"] / 100
STOPPED = "stopped from its lowest dispensable dose"


def oxycodone_example(**overrides) -> TaperRequest:
    """The issue's example: oxycodone 30 mg every 8 hours for 3 years."""
    fields = {"regimen": (OpioidDose("oxycodone", 30, "mg", 3),), "start": START, "years_of_use": 3, **overrides}
    return TaperRequest(**fields)


# ---- examples ----------------------------------------------------------------------------------
def test_issue_example_oxycodone_30_mg_q8h_for_3_years() -> None:
    plan = plan_taper(oxycodone_example(uldn=True))
    assert plan.start_mme == 135
    first, second = plan.steps[0], plan.steps[1]
    assert (first.number, first.date, first.total_mme, first.percent_of_start) == (0, START, 135, 100)
    assert first.doses == (("oxycodone", 90.0, "mg/day", "current dose"),)
    # about 10% less after a month, rounded down to whole and half tablets given every 8 hours
    assert second.date == START + timedelta(days=28)
    assert 135 * 0.875 <= second.total_mme <= 135 * 0.9 * (1 + TOLERANCE)
    assert second.doses[0][1] == 82.5 and second.doses[0][3].endswith("q8h") and "mg tablet" in second.doses[0][3]
    assert all(step.uldn == "naltrexone 1 µg twice daily" for step in plan.steps)
    assert plan.steps[-1].total_mme == 0
    assert [step.total_mme for step in plan.steps[:4]] == [135, 123.75, 112.5, 101.25]
    assert plan.factors[0].factor == 1.5 and plan.factors[0].source == "CDC 2022" and plan.factors[0].version
    assert "rounded to a dispensable amount" in plan.rules and "rounded down" in plan.rules
    assert any("≥ 1 year" in note for note in plan.notes)
    assert check_taper(oxycodone_example(), [(s.date, s.total_mme) for s in plan.steps]) == []


def test_dispense_notes_use_product_strengths() -> None:
    plan = plan_taper(oxycodone_example())
    notes = [step.doses[0][3] for step in plan.steps[1:-1]]
    assert "1 × 10 mg tablet + 1 × 15 mg tablet q8h" in notes  # 25 mg in whole tablets, not 2½ × 10 mg
    assert "½ × 5 mg tablet once daily" in notes  # administrations dropped at the smallest dose
    assert "1 × 5 mg tablet q12h" in notes  # ... and at one unit of the smallest common strength
    assert plan.steps[-1].doses[0][3] == "stop" and STOPPED in plan.steps[-1].note


# ---- dispensing: the regimen a pharmacist would sign ------------------------------------------------
def _notes_by_daily_dose(plan: TaperPlan) -> dict[float, str]:
    return {step.doses[0][1]: step.doses[0][3] for step in plan.steps[1:]}


def test_dispensing_prefers_whole_single_common_strengths() -> None:
    by_dose = _notes_by_daily_dose(plan_taper(oxycodone_example()))
    assert by_dose[45] == "1 × 15 mg tablet q8h"  # not ½ × 30 mg
    assert by_dose[30] == "1 × 10 mg tablet q8h"  # not ½ × 20 mg
    assert by_dose[60] == "1 × 20 mg tablet q8h"
    assert by_dose[82.5] == "1 × 7.5 mg tablet + 1 × 20 mg tablet q8h"  # whole tablets, not ½ × 15 + 1 × 20
    assert by_dose[75] == "1 × 10 mg tablet + 1 × 15 mg tablet q8h"  # common strengths over 2½ × 10 mg


def test_never_a_half_tablet_when_a_whole_tablet_of_that_amount_exists() -> None:
    from cds.planners.taper import _dispensable, _preferred
    strengths = (5.0, 7.5, 10.0, 15.0, 20.0, 30.0)
    preferred = _preferred("oxycodone", "Oral Tablet", strengths)
    assert preferred == (5, 10, 15, 20, 30)  # [practice] list in taper.yaml: 7.5 mg only if needed
    amounts = _dispensable("tablet", strengths, preferred)
    for strength in strengths:
        assert amounts[strength][1] == f"1 × {strength:g} mg tablet"
    assert amounts[2.5][1] == "½ × 5 mg tablet"  # a half only where no whole tablet gives the amount
    assert amounts[25][1] == "1 × 10 mg tablet + 1 × 15 mg tablet"
    assert amounts[40][1] == "2 × 20 mg tablets"  # one strength over two
    assert amounts[12.5][1] == "1 × 5 mg tablet + 1 × 7.5 mg tablet"  # whole over 2½ × 5 mg
    # fewer units, then common strengths: 15 mg as 1 × 15, not 2 × 7.5 or 3 × 5
    assert amounts[15][0] < _dispensable("tablet", strengths, preferred)[12.5][0]


def test_dispensing_rule_is_documented_data() -> None:
    dispensing = CONFIG["dispensing"]
    assert "same dose at every administration" in dispensing["preference"][0]
    assert "whole units over halves" in dispensing["preference"][1]
    assert dispensing["preferred strengths"]["oxycodone"]["Oral Tablet"] == [5, 10, 15, 20, 30]
    plan = plan_taper(oxycodone_example())
    assert "pharmacist" in plan.rules and "never a half tablet" in plan.rules


@pytest.mark.parametrize("per_admin, start, note", [(15, 30, "1 × 15 mg tablet q8h"), (10, 20, "1 × 10 mg tablet q8h"),
                                                    (20, 30, "1 × 20 mg tablet q8h")])
def test_a_plan_reaching_a_whole_strength_names_that_tablet(per_admin: float, start: float, note: str) -> None:
    # a taper from a higher dose: every dose in the plan is written the simplest way
    plan = plan_taper(oxycodone_example(regimen=(OpioidDose("oxycodone", start, "mg", 3),)))
    by_dose = _notes_by_daily_dose(plan)
    assert by_dose[per_admin * 3] == note
    assert not any(text.startswith("½ × 30") or text.startswith("½ × 20") or "½ × 15 mg tablet + " in text
                   for text in by_dose.values())


def test_fentanyl_patch_uses_2_4_mme_per_microgram_hour() -> None:
    plan = plan_taper(TaperRequest((OpioidDose("fentanyl", 50, "mcg/h", 1, "patch"),), START, 2))
    assert plan.start_mme == 120
    assert plan.factors[0].factor == 2.4 and plan.factors[0].per == "mcg/h"
    patches = {step.doses[0][1] for step in plan.steps[1:]}
    assert patches <= {0, 12, 25, 37.5, 50, 62.5, 75, 87.5, 100} | {a + b for a in (12, 25, 37.5) for b in (12, 25, 37.5)}
    assert "µg/h patch" in plan.steps[1].doses[0][3]


def test_methadone_is_converted_with_4_7_and_a_specialist_note() -> None:
    plan = plan_taper(TaperRequest((OpioidDose("methadone", 10, "mg", 2),), START, 2))
    assert plan.start_mme == 94
    assert any("non-linear" in note and "specialist" in note for note in plan.notes)


def test_liquid_rounds_to_half_millilitres() -> None:
    plan = plan_taper(TaperRequest((OpioidDose("methadone", 10, "mg", 2, "liquid"),), START, 2, floor_mme=20))
    for step in plan.steps[1:]:
        per_admin = step.doses[0][1] / 2
        assert abs(per_admin * 2 - round(per_admin * 2)) < 1e-9  # 0.5 mL of 1 mg/mL
        assert "mL of 1 mg/mL oral solution" in step.doses[0][3]
    assert plan.steps[-1].total_mme <= 20 * (1 + TOLERANCE)


def test_short_use_takes_10_percent_of_the_original_dose_weekly_then_of_the_remaining() -> None:
    plan = plan_taper(TaperRequest((OpioidDose("morphine", 50, "mg", 2),), START, 0.25))
    assert plan.start_mme == 100
    assert plan.steps[1].date == START + timedelta(days=7)
    assert [step.total_mme for step in plan.steps[1:6]] == [90, 80, 70, 60, 50]
    assert any("< 1 year" in note for note in plan.notes)


def test_several_opioids_taper_the_highest_mme_first_one_at_a_time() -> None:
    plan = plan_taper(TaperRequest((OpioidDose("morphine", 60, "mg", 2, "er tablet"),
                                    OpioidDose("fentanyl", 25, "mcg/h", 1, "patch")), START, 2))
    assert plan.start_mme == 180
    for before, after in zip(plan.steps, plan.steps[1:]):
        changed = [i for i in range(2) if before.doses[i][1] != after.doses[i][1]]
        assert len(changed) == 1
        highest = max(range(2), key=lambda i: (mme(before, i), -i))
        # the highest first, unless it is at its lowest dose and stopping it would be too fast
        assert changed[0] == highest or (after.doses[highest][1] == before.doses[highest][1]
                                         and before.doses[highest][1] == LOWEST[before.doses[highest][0]])
    assert any("one opioid at a time" in note for note in plan.notes)
    assert [f.ingredient for f in plan.factors] == ["morphine", "fentanyl"]
    request = TaperRequest((OpioidDose("morphine", 60, "mg", 2, "er tablet"),
                            OpioidDose("fentanyl", 25, "mcg/h", 1, "patch")), START, 2)
    assert check_taper(request, [(step.date, step.total_mme) for step in plan.steps]) == []


LOWEST = {"fentanyl": 12.0, "morphine": 15.0}


def percocet_and_fentanyl() -> TaperRequest:
    """Percocet 10 mg every 6 hours (oxycodone 40 mg/day = 60 MME) + fentanyl 25 µg/h (60 MME), 2 years."""
    return TaperRequest((OpioidDose("oxycodone", 10, "mg", 4), OpioidDose("fentanyl", 25, "mcg/h", 1, "patch")),
                        START, 2)


def test_percocet_and_fentanyl_never_stops_the_patch_too_fast() -> None:
    # the defect: the 12 µg/h patch (28.8 MME) was stopped from about 64 MME/day (~45% in 28 days)
    # while oxycodone went on, and check_taper rejected that very step
    request = percocet_and_fentanyl()
    plan = plan_taper(request)
    assert plan.start_mme == 120 and plan.steps[-1].total_mme == 0
    assert check_taper(request, [(step.date, step.total_mme) for step in plan.steps]) == []
    for before, after in zip(plan.steps[:-1], plan.steps[1:-1]):  # every reduction before the final stop
        days = (after.date - before.date).days
        assert days % 28 == 0
        allowed = before.total_mme * (0.10 * days / 28 + TOLERANCE)  # the rate plus the rounding tolerance
        assert before.total_mme - after.total_mme <= allowed + 1e-6, after
    # the patch is stopped last, on its own, from its lowest dose; oxycodone was reduced first
    final, last_before = plan.steps[-1], plan.steps[-2]
    assert last_before.doses == (("oxycodone", 0.0, "mg/day", "stop"), last_before.doses[1])
    assert last_before.doses[1][1] == 12.0 and "fentanyl stopped" in final.note
    stops = [step for step in plan.steps if "oxycodone stopped" in step.note]
    # oxycodone is stopped once, from its lowest dose: half a 5 mg tablet every other day (CDC: extend
    # the interval at the smallest dose), 1.875 MME, within the rate
    assert len(stops) == 1
    assert plan.steps[stops[0].number - 1].doses[0][3] == "½ × 5 mg tablet every other day"
    assert all(step.doses[1][1] == 12.0 for step in plan.steps if 0 < step.total_mme < 64)


def test_check_rejects_stopping_the_patch_while_oxycodone_goes_on() -> None:
    request = percocet_and_fentanyl()
    # 30 mg oxycodone (45 MME)... down to 15 mg/day (22.5) + 12 µg/h (28.8) = 51.3, then the patch stopped
    proposed = [(START + timedelta(days=28 * i), mme) for i, mme in enumerate((108, 97.2, 87.5, 78.8, 70.9, 63.8), 1)]
    proposed.append((START + timedelta(days=28 * 7), 63.8 - 28.8))
    messages = check_taper(request, proposed)
    assert len(messages) == 1 and messages[0].startswith("step 7") and "too fast" in messages[0]
    # the same stop is allowed once held long enough for the average rate
    held = proposed[:-1] + [(START + timedelta(days=28 * 6 + 28 * 5), 35.0)]
    assert check_taper(request, held) == []


def mme(step, index: int) -> float:
    ingredient, amount, unit, _ = step.doses[index]
    return amount * {"morphine": 1.0, "fentanyl": 2.4}[ingredient]


def test_pauses_hold_one_extra_interval() -> None:
    plain = plan_taper(oxycodone_example())
    paused = plan_taper(oxycodone_example(pauses=(1,)))
    assert [s.total_mme for s in paused.steps] == [s.total_mme for s in plain.steps]
    assert (paused.steps[2].date - paused.steps[1].date).days == (plain.steps[2].date - plain.steps[1].date).days + 28
    assert "pause after step 1" in paused.steps[2].note


def test_slower_clinician_rate_and_floor() -> None:
    plan = plan_taper(oxycodone_example(rate_percent=5, floor_mme=45))
    drops = [(a.total_mme - b.total_mme) / a.total_mme for a, b in zip(plan.steps, plan.steps[1:])]
    assert plan.steps[1].total_mme >= 135 * 0.95 * (1 - 0.05)
    assert max(drops[:3]) < 0.1
    assert plan.steps[-1].total_mme <= 45 * (1 + TOLERANCE) and plan.steps[-2].total_mme > 45 * (1 + TOLERANCE)


def test_follow_up_at_least_monthly() -> None:
    plan = plan_taper(oxycodone_example())
    days = [START, *plan.follow_up]
    assert all(0 < (b - a).days <= 28 for a, b in zip(days, days[1:]))
    assert {step.date for step in plan.steps[1:]} <= set(plan.follow_up)
    assert plan.follow_up[-1] > plan.steps[-1].date


# ---- checking a clinician's taper --------------------------------------------------------------
def test_check_flags_too_fast_steps_and_increases() -> None:
    proposed = [(START + timedelta(days=28), 121.5), (START + timedelta(days=56), 90),
                (START + timedelta(days=84), 95), (START + timedelta(days=112), 85.5)]
    messages = check_taper(oxycodone_example(), proposed)
    assert len(messages) == 2
    assert messages[0].startswith("step 2") and "too fast" in messages[0]
    assert messages[1].startswith("step 3") and "increase" in messages[1]


def test_check_accepts_a_slow_taper_and_flags_a_fast_short_use_one() -> None:
    assert check_taper(oxycodone_example(), [(START + timedelta(days=30 * i), 135 * 0.92 ** i) for i in range(1, 10)]) == []
    short = TaperRequest((OpioidDose("morphine", 50, "mg", 2),), START, 0.25)
    assert check_taper(short, [(START + timedelta(days=7), 90), (START + timedelta(days=14), 80)]) == []
    assert "too fast" in check_taper(short, [(START + timedelta(days=7), 75)])[0]
    assert "not after" in check_taper(short, [(START, 80)])[0]


# ---- refusals ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("dose", "says"), [
    (OpioidDose("buprenorphine", 8, "mg", 1), "CDC 2022 excludes buprenorphine"),
    (OpioidDose("unobtainium", 5, "mg", 1), "not an ingredient"),
    (OpioidDose("naltrexone", 4.5, "mg", 1), "not an opioid agonist"),
    (OpioidDose("dihydrocodeine", 30, "mg", 2), "no CDC 2022 MME conversion factor"),
    (OpioidDose("oxycodone", 5, "mL", 3), "cannot be converted"),
    (OpioidDose("oxycodone", 25, "mcg/h", 1, "patch"), "only transdermal fentanyl"),
    (OpioidDose("fentanyl", 25, "mcg/h", 1, "tablet"), "only transdermal fentanyl"),
    (OpioidDose("fentanyl", 200, "mcg", 4, "tablet"), "transmucosal"),
    (OpioidDose("oxycodone", 5, "mg", 3, "film"), "not one the planner can dispense"),
    (OpioidDose("oxycodone", 0, "mg", 3), "above zero"),
])
def test_refuses_what_cannot_be_planned(dose: OpioidDose, says: str) -> None:
    request = TaperRequest((dose,), START, 2)
    with pytest.raises(TaperError, match=says):
        plan_taper(request)
    with pytest.raises(TaperError, match=says):
        check_taper(request, [(START + timedelta(days=28), 1)])


@pytest.mark.parametrize(("overrides", "says"), [
    ({"rate_percent": 15}, "faster than allowed"),
    ({"rate_percent": 10, "interval_days": 14}, "faster than allowed"),
    ({"interval_days": 3}, "shorter than"),
    ({"floor_mme": 200}, "already at or below the floor"),
    ({"regimen": ()}, "empty"),
])
def test_refuses_overrides_faster_than_allowed(overrides: dict, says: str) -> None:
    with pytest.raises(TaperError, match=says):
        plan_taper(oxycodone_example(**overrides))


def test_taper_error_is_a_value_error() -> None:
    assert issubclass(TaperError, ValueError)


# ---- invariants --------------------------------------------------------------------------------
DRUGS = st.sampled_from([
    ("oxycodone", "tablet", "mg", (5, 10, 15, 20, 30, 40)),
    ("oxycodone", "er tablet", "mg", (10, 20, 40, 80)),
    ("morphine", "tablet", "mg", (15, 30, 60)),
    ("morphine", "er capsule", "mg", (30, 60, 100)),
    ("hydromorphone", "tablet", "mg", (2, 4, 8)),
    ("hydrocodone", "tablet", "mg", (5, 7.5, 10)),
    ("tramadol", "tablet", "mg", (50, 100)),
    ("tapentadol", "tablet", "mg", (50, 100)),
    ("codeine", "tablet", "mg", (30, 60)),
    ("methadone", "liquid", "mg", (5, 10, 20)),
    ("oxymorphone", "tablet", "mg", (5, 10)),
    ("fentanyl", "patch", "mcg/h", (12, 25, 50, 75, 100)),
])


PERCOCET = ("oxycodone", "tablet", "mg", (5, 7.5, 10))
PATCH = ("fentanyl", "patch", "mcg/h", (12, 25, 37.5, 50))


@st.composite
def requests(draw) -> TaperRequest:
    regimen = []
    chosen = draw(st.one_of(st.lists(DRUGS, min_size=1, max_size=3, unique_by=lambda d: d[0]),
                            st.just([PERCOCET, PATCH]), st.lists(DRUGS, min_size=2, max_size=3, unique_by=lambda d: d[0])))
    for name, form, unit, doses in chosen:
        regimen.append(OpioidDose(name, draw(st.sampled_from(doses)), unit, draw(st.sampled_from((1, 2, 3, 4))), form))
    years = draw(st.sampled_from((0.1, 0.5, 0.99, 1, 3, 10)))
    long_term = years >= 1
    interval = draw(st.sampled_from((None, 7, 14, 28, 35) if long_term else (None, 7, 10, 14)))
    reference = 28 if long_term else 7
    most = 10 * min(1, (interval or reference) / reference)
    rate = draw(st.one_of(st.none(), st.floats(1, most)))
    return TaperRequest(tuple(regimen), START, years, uldn=draw(st.booleans()), rate_percent=rate,
                        interval_days=interval, floor_mme=draw(st.sampled_from((0, 0, 5, 30))),
                        pauses=tuple(draw(st.sets(st.integers(0, 6), max_size=2))))


def _rule(request: TaperRequest, previous: float, start: float) -> tuple[float, float, int]:
    """(base, fraction per reference days, reference days) of the rule in force, from the facts."""
    if request.years_of_use >= 1:
        return previous, 0.10, 28
    if previous > start * 0.30 + 1e-9:
        return start, 0.10, 7
    return previous, 0.10, 7


def _planned(request: TaperRequest) -> TaperPlan | None:
    try:
        return plan_taper(request)
    except TaperError as error:
        assert "floor" in str(error)  # the only refusal these requests can meet
        return None


@settings(max_examples=200, deadline=None)
@given(requests())
def test_taper_invariants(request: TaperRequest) -> None:
    plan = _planned(request)
    if plan is None:
        return
    steps = plan.steps
    start = plan.start_mme
    interval = request.interval_days or (28 if request.years_of_use >= 1 else 7)
    reference = 28 if request.years_of_use >= 1 else 7
    rate = (request.rate_percent / 100) if request.rate_percent else 0.10 * min(1, interval / reference)
    assert steps[0].total_mme == start and steps[0].percent_of_start == 100
    for before, after in zip(steps, steps[1:]):
        days = (after.date - before.date).days
        # never an increase, for the total or any drug; every step is a decrease
        assert after.total_mme < before.total_mme
        assert all(b[1] >= a[1] for b, a in zip(before.doses, after.doses))
        assert days > 0 and days % interval == 0
        assert after.percent_of_start == pytest.approx(after.total_mme / start * 100, abs=0.01)
        # never faster than the rule in force (pro rata for the days held) plus the documented rounding
        # tolerance of the previous dose, except the final stop: the last opioid stopped from its lowest
        # dispensable dose after one interval
        base, fraction, ref = _rule(request, before.total_mme, start)
        if STOPPED in after.note and after.total_mme == 0:
            assert days >= interval
        else:
            allowed = base * fraction * days / ref + TOLERANCE * before.total_mme
            assert before.total_mme - after.total_mme <= allowed + 1e-6
        # one opioid at a time; rounding never above the unrounded target by more than the tolerance
        # while one opioid is left (with several, one waiting at its lowest dose while another is
        # reduced more slowly is allowed: the rate check above still holds)
        target = max(before.total_mme - base * rate, request.floor_mme)
        changed = [i for i, (b, a) in enumerate(zip(before.doses, after.doses)) if b[1] != a[1]]
        assert len(changed) == 1
        if sum(1 for dose in before.doses if dose[1] > 0) == 1:
            assert after.total_mme <= target * (1 + TOLERANCE) + 1e-6
    # the last step is at the floor (within the tolerance) or zero
    last = steps[-1].total_mme
    if request.floor_mme == 0:
        assert last == 0
    else:
        assert last <= request.floor_mme * (1 + TOLERANCE) + 1e-6
        assert all(step.total_mme > request.floor_mme * (1 + TOLERANCE) for step in steps[:-1])
    assert all((step.uldn is not None) == request.uldn for step in steps)
    days = [START, *plan.follow_up]
    assert all(0 < (b - a).days <= 28 for a, b in zip(days, days[1:]))
    # the planner's own schedule passes its own check
    assert check_taper(request, [(step.date, step.total_mme) for step in steps]) == []


@settings(max_examples=60)
@given(requests(), st.lists(st.tuples(st.integers(1, 60), st.floats(0, 1.2)), min_size=1, max_size=6))
def test_check_flags_every_increase(request: TaperRequest, moves: list[tuple[int, float]]) -> None:
    start = sum(1 for _ in request.regimen) and plan_start(request)
    proposed, day, mme_now = [], START, start
    for gap, factor in moves:
        day, mme_now = day + timedelta(days=gap), round(mme_now * factor, 3)
        proposed.append((day, mme_now))
    messages = check_taper(request, proposed)
    previous = start
    for number, (_, value) in enumerate(proposed, start=1):
        if value > previous + 1e-6:
            assert any(m.startswith(f"step {number} ") and "increase" in m for m in messages)
        previous = value


def plan_start(request: TaperRequest) -> float:
    return plan_taper(TaperRequest(request.regimen, START, request.years_of_use)).start_mme


def test_a_step_cutting_more_than_a_quarter_in_one_go_is_marked_for_review() -> None:
    # FDA labelling: no more than 10–25% at a time; a patch has no strength between 25 and 12 mcg/h.
    plan = plan_taper(TaperRequest(regimen=(OpioidDose("fentanyl", 25, "mcg/h", 1, "patch"),),
                                   start=date(2026, 12, 1), years_of_use=2))
    cuts = [(b.total_mme - s.total_mme) / b.total_mme for b, s in zip(plan.steps, plan.steps[1:])]
    for step, cut in zip(plan.steps[1:], cuts):
        final = step is plan.steps[-1] and step.total_mme == 0
        assert ("FDA labelling allows" in step.note) == (cut > 0.25 + 1e-9 and not final), step
    assert any("FDA labelling allows" in step.note for step in plan.steps)


# ---- finer steps, the lowest dose, labels and notes -----------------------------------------------
def test_uneven_doses_give_steps_smaller_than_one_tablet_at_every_dose() -> None:
    # methadone 25 mg q6h: even doses move in 10 mg/day steps (more than 10% below 100 mg/day, so each
    # would be held); uneven ones in 2.5–5 mg, so none is held while the dose is high
    plan = plan_taper(TaperRequest((OpioidDose("methadone", 25, "mg", 4),), START, 3))
    uneven = [step for step in plan.steps if " of the q6h doses" in step.doses[0][3]]
    assert uneven and all("held" not in step.note for step in plan.steps[1:10])
    for step in uneven:  # each dose is tablets of one strength
        assert " + " not in step.doses[0][3]


def test_the_lowest_dose_is_taken_every_other_day_before_the_stop() -> None:
    plan = plan_taper(oxycodone_example())
    before_stop = plan.steps[-2]
    assert before_stop.doses[0][3] == "½ × 5 mg tablet every other day"
    assert before_stop.doses[0][1] == 1.25 and plan.steps[-1].total_mme == 0
    assert "stopped from its lowest dispensable dose" in plan.steps[-1].note


def test_as_needed_opioids_are_planned_as_taken_and_say_so() -> None:
    plan = plan_taper(TaperRequest((OpioidDose("oxycodone", 5, "mg", 4, as_needed=True),), START, 2))
    assert any("taken as needed" in note and "doses actually taken" in note for note in plan.notes)
    assert not any("as needed" in note for note in plan_taper(oxycodone_example()).notes)


def test_the_same_opioid_twice_is_labelled_by_form() -> None:
    request = TaperRequest((OpioidDose("oxycodone", 20, "mg", 2, "er tablet"), OpioidDose("oxycodone", 5, "mg", 4)),
                           START, 2)
    plan = plan_taper(request)
    assert [dose[0] for dose in plan.steps[0].doses] == ["oxycodone ER tablet", "oxycodone tablet"]
    assert plan.start_mme == 90


def test_liquids_use_the_commonest_dilute_concentration() -> None:
    plan = plan_taper(TaperRequest((OpioidDose("morphine", 20, "mg", 4, "liquid"),), START, 2))
    assert all("mL of 2 mg/mL oral solution" in step.doses[0][3] for step in plan.steps[1:-1])


def test_taper_data_cites_only_known_sources() -> None:
    known = set(yaml.safe_load((PLANNING_DIR.parent / "reference" / "sources.yaml").read_text())["sources"])
    cited = set(CONFIG["schedule"]["sources"]) | set(CONFIG["rounding"]["lowest dose sources"])
    cited |= set(CONFIG["uldn"]["sources"]) | {CONFIG["mme"]["source"]}
    for spec in ("long-term", "short-term"):
        cited |= set(CONFIG["schedule"][spec]["sources"])
    assert cited <= known
