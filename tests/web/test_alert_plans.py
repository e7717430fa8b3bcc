"""The plan a taper or titration alert carries (cds/alert_plans.py), shared by the CDS Hooks cards and
the web page: one computation, so both always show the same schedule."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cds.alert_plans import (
    taper_for_alert,
    taper_plan,
    titration_for_alert,
    years_recorded,
)
from cds.alerts import Alert
from cds.hooks.cards import taper_markdown, titration_markdown
from cds.schemas import EVALUATE_REQUEST
from cds.service import Evaluator

TODAY = date(2026, 11, 23)


def alert(evaluator: Evaluator, rule: str, **body: Any) -> Alert:
    result = evaluator.evaluate(EVALUATE_REQUEST.load({"evaluationTime": TODAY.isoformat(), **body}))
    return next(a for a in result.alerts if a.rule.id == rule)


def uldn(evaluator: Evaluator, *medications: dict[str, Any]) -> Alert:
    return alert(evaluator, "LDN-OPI-006", order={"text": "ULDN 1 mcg twice daily"}, medications=list(medications))


def test_a_taper_alert_plans_the_opioids_it_matched(evaluator: Evaluator) -> None:
    found = taper_for_alert(uldn(evaluator, {"text": "oxycodone 10 mg every 6 hours", "start": "2023-11-23"}), TODAY)
    assert found is not None and found.plan is not None and found.error is None
    assert [(d.ingredient, d.dose, d.per_day) for d in found.regimen] == [("oxycodone", 10.0, 4.0)]
    assert round(found.years, 2) == 3.0 and found.monthly
    assert found.plan.start_mme == 60 and found.plan.steps[0].date == TODAY and found.plan.steps[-1].total_mme == 0
    assert found.plan.steps[0].uldn  # ULDN alongside


def test_years_on_opioids_given_by_hand_override_the_start_dates(evaluator: Evaluator) -> None:
    taper = uldn(evaluator, {"text": "oxycodone 10 mg every 6 hours", "start": "2023-11-23"})
    weekly = taper_for_alert(taper, TODAY, years=0.5)
    assert weekly is not None and weekly.years == 0.5 and not weekly.monthly
    monthly = taper_for_alert(taper, TODAY)
    assert monthly is not None and weekly.plan.steps[1].date < monthly.plan.steps[1].date  # 10% a week is faster


def test_not_recorded_years_use_the_slower_long_term_rate(evaluator: Evaluator) -> None:
    taper = uldn(evaluator, {"text": "oxycodone 10 mg every 6 hours"})
    assert years_recorded(taper) is None
    found = taper_for_alert(taper, TODAY)
    assert found is not None and found.years is None and found.monthly


def test_no_opioid_dose_no_plan(evaluator: Evaluator) -> None:
    taper = uldn(evaluator, {"text": "tramadol"})
    assert taper_for_alert(taper, TODAY) is None
    assert "no opioid dose could be read" in taper_markdown(taper, TODAY)


def test_an_opioid_the_planner_cannot_taper_gives_the_reason(evaluator: Evaluator) -> None:
    found = taper_for_alert(uldn(evaluator, {"text": "buprenorphine 8 mg daily"}), TODAY)
    assert found is not None and found.plan is None and "buprenorphine" in found.error


def test_plans_are_computed_once_per_regimen_and_day(evaluator: Evaluator) -> None:
    taper = uldn(evaluator, {"text": "oxycodone 10 mg every 6 hours"})
    first = taper_for_alert(taper, TODAY)
    assert first is not None and taper_plan(first.regimen, None, TODAY) is first


def test_the_card_shows_the_same_taper(evaluator: Evaluator) -> None:
    taper = uldn(evaluator, {"text": "oxycodone 10 mg every 6 hours"})
    found = taper_for_alert(taper, TODAY)
    markdown = taper_markdown(taper, TODAY)
    assert found is not None and found.plan is not None
    for step in found.plan.steps:
        assert f"| {step.number} | {step.date.isoformat()} |" in markdown


def test_a_titration_alert_plans_up_to_the_ordered_dose(evaluator: Evaluator) -> None:
    titration = alert(evaluator, "LDN-TIT-001", order={"text": "LDN 3 mg in the morning"})
    found = titration_for_alert(titration, TODAY)
    assert found is not None and found.plan is not None
    assert found.target_mg == 3 and found.time_of_day == "morning"
    assert found.plan.steps[0].start == TODAY and found.plan.steps[-1].dose_mg == 3
    markdown = titration_markdown(titration, TODAY)
    for step in found.plan.steps:
        assert f"| {step.start.isoformat()} | {step.end.isoformat()} |" in markdown


# ---- the review's findings -------------------------------------------------------------------
def test_a_plan_that_would_run_past_the_calendar_says_it_could_not_be_dated(evaluator: Evaluator) -> None:
    late = date(9999, 6, 1)
    found = taper_for_alert(uldn(evaluator, {"text": "oxycodone 10 mg q6h"}), late)
    assert found is not None and found.plan is None and "could not be dated" in found.error
    titration = alert(evaluator, "LDN-TIT-001", order={"text": "LDN 4.5 mg at bedtime"})
    planned = titration_for_alert(titration, date(9999, 12, 1))
    assert planned is not None and planned.plan is None and "could not be dated" in planned.error


@pytest.mark.parametrize("line", ["fentanyl 25 mcg/h patch q72h", "Duragesic 25 mcg/h q72h",
                                  "fentanyl 25 mcg/hr transdermal q72h", "fentanyl TD 25 mcg/h",
                                  "fentanyl 25 µg/h q72h"])
def test_a_fentanyl_patch_is_known_by_its_dose_per_hour_its_route_or_its_brand(evaluator: Evaluator,
                                                                               line: str) -> None:
    found = taper_for_alert(uldn(evaluator, {"text": line}), TODAY)
    assert found is not None and found.error is None and found.plan is not None, found
    [dose] = found.regimen
    assert (dose.ingredient, dose.dose, dose.unit, dose.form) == ("fentanyl", 25.0, "mcg/h", "patch")
    assert found.plan.start_mme == 60


def test_fentanyl_that_is_not_a_patch_is_not_tapered_as_one(evaluator: Evaluator) -> None:
    found = taper_for_alert(uldn(evaluator, {"text": "fentanyl 100 mcg IV q1h"}), TODAY)
    assert found is not None and found.plan is None and "transdermal patches" in found.error
