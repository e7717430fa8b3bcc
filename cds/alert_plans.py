"""The plan an alert carries: the opioid taper for a `taper` alert, the LDN titration for a
`titration` alert.

One place computes them, so the CDS Hooks cards (as Markdown, `cds.hooks.cards`) and the web page
(as a table and a chart, `cds.web`) always show the same schedule for the same alert.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from .alerts import Alert
from .planners.taper import OpioidDose, TaperError, TaperPlan, TaperRequest, plan_taper
from .planners.titration import (
    TitrationError,
    TitrationPlan,
    TitrationRequest,
    plan_titration,
)

NOT_DATED = "the plan could not be dated: its steps would fall after the end of the calendar (year 9999)"
# A fentanyl line is a transdermal patch when its dose is per hour, it says so, or it names a patch brand.
_PATCH = re.compile(r"(?:mcg|µg|μg|ug)\s*/\s*(?:h|hr|hour)\b|\b(?:patch(?:es)?|transdermal|TD|TTS|duragesic|durogesic|"
                    r"matrifen|fencino|mezolar)\b", re.IGNORECASE)
USUAL_MAX_MG = 4.5  # a titration plans up to the order's dose, at most the usual LDN maximum
DAYS_A_YEAR = 365.25


@dataclass(frozen=True, slots=True)
class TaperForAlert:
    """The taper for the opioids a taper alert matched, or why there is none (`error`)."""

    regimen: tuple[OpioidDose, ...]
    years: float | None  # years on opioids the plan used; None: not recorded (the long-term rate is used)
    plan: TaperPlan | None
    error: str | None = None

    @property
    def monthly(self) -> bool:
        """About 10% a month (a year or more of use, or not recorded), else 10% a week."""
        return self.years is None or self.years >= 1


@dataclass(frozen=True, slots=True)
class TitrationForAlert:
    """Start low, go slow: the titration up to the ordered dose, or why there is none (`error`)."""

    target_mg: float
    time_of_day: str
    plan: TitrationPlan | None
    error: str | None = None


def opioid_facts(alert: Alert) -> list[Mapping[str, Any]]:
    """The matched opioids whose daily dose could be read: what a taper tapers."""
    return [fact for fact in alert.matched if fact.get("fact") == "medication"
            and fact.get("class") == "opioid-agonist" and fact.get("daily_dose_mg")]


def years_recorded(alert: Alert) -> float | None:
    """How long opioids have been taken, from the longest-running matched opioid's start date."""
    started = [fact["days_since_started"] for fact in opioid_facts(alert) if fact.get("days_since_started") is not None]
    return max(started) / DAYS_A_YEAR if started else None


def taper_for_alert(alert: Alert, today: date, years: float | None = None) -> TaperForAlert | None:
    """The taper a taper alert carries, from `today`; None when no opioid dose could be read.
    `years` (years on opioids, e.g. as a pharmacist gives it) overrides what the start dates say."""
    opioids = opioid_facts(alert)
    if not opioids:
        return None
    return taper_plan(tuple(opioid_dose(fact) for fact in opioids),
                      years if years is not None else years_recorded(alert), today)


@lru_cache(maxsize=1024)  # the same regimen on the same day: planned once, not per card or page
def taper_plan(regimen: tuple[OpioidDose, ...], years: float | None, today: date) -> TaperForAlert:
    try:
        plan = plan_taper(TaperRequest(regimen=regimen, start=today, years_of_use=years if years is not None else 1.0,
                                       uldn=True))
    except TaperError as error:
        return TaperForAlert(regimen, years, None, str(error))
    except OverflowError:
        return TaperForAlert(regimen, years, None, NOT_DATED)
    return TaperForAlert(regimen, years, plan)


def titration_for_alert(alert: Alert, today: date) -> TitrationForAlert | None:
    """The titration a titration alert carries, from `today`; None when the order has no daily dose."""
    order = next((fact for fact in alert.matched if fact.get("fact") == "order" and fact.get("daily_dose_mg")), None)
    if order is None:
        return None
    return titration_plan(min(order["daily_dose_mg"], USUAL_MAX_MG), order.get("time_of_day") or "bedtime", today)


@lru_cache(maxsize=1024)  # the same start on the same day: planned once, not per card or page
def titration_plan(target: float, time_of_day: str, today: date) -> TitrationForAlert:
    try:
        plan = plan_titration(TitrationRequest(start=today, target_mg=target, time_of_day=time_of_day))
    except TitrationError as error:
        return TitrationForAlert(target, time_of_day, None, str(error))
    except OverflowError:
        return TitrationForAlert(target, time_of_day, None, NOT_DATED)
    return TitrationForAlert(target, time_of_day, plan)


def opioid_dose(fact: Mapping[str, Any]) -> OpioidDose:
    """A matched opioid fact as the taper planner's regimen entry (fentanyl patches in µg/h)."""
    per_day = fact.get("doses_per_day") or 1.0
    if fact.get("ingredient") == "fentanyl" and is_patch(fact):
        return OpioidDose(ingredient="fentanyl", dose=fact["daily_dose_mg"] * 1000 / 24, unit="mcg/h", per_day=1.0,
                          form="patch")
    return OpioidDose(ingredient=fact["ingredient"], dose=fact["daily_dose_mg"] / per_day, unit="mg", per_day=per_day)


def is_patch(fact: Mapping[str, Any]) -> bool:
    """A fentanyl line written as a transdermal patch: "fentanyl 25 mcg/h patch", "Duragesic 25 mcg/h q72h",
    "fentanyl 25 mcg/hr transdermal", "fentanyl TD 25 mcg/h"."""
    return bool(_PATCH.search(str(fact.get("name", ""))))
