"""An evaluation as the page shows it: alert cards, how each line was understood, and the plan.

Everything here is built from `cds.service.Evaluation` (the JSON API's answer) and the form it came
from; nothing is computed that the API or the CDS Hooks cards do not also say.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from ..alert_plans import (
    TaperForAlert,
    TitrationForAlert,
    taper_for_alert,
    titration_for_alert,
)
from ..alerts import SEVERITY_ORDER, Alert, matched_in_words
from ..model import Medication, Problem, format_number
from ..rulebook import Source
from ..service import Evaluation
from ..terminology import Terminology
from .chart import Chart, Step, staircase
from .form import Check, Line

SEVERITY_LABELS = {"critical": "Critical", "warning": "Warning", "info": "Info"}
_DOSE_PROBLEMS = ("unresolved-dose", "unresolved-naltrexone-dose")


@dataclass(frozen=True, slots=True)
class Card:
    rule: str
    version: str
    title: str
    category: str
    severity: str
    summary: str
    detail: str
    rationale: str
    matched: tuple[str, ...]
    todo: tuple[tuple[str, str], ...]  # (what, how)
    thresholds: tuple[str, ...]
    sources: tuple[Source, ...]

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]


@dataclass(frozen=True, slots=True)
class UnderstoodLine:
    where: str  # "order" or "line 3"
    written: str
    ingredients: str
    classes: str
    daily_dose: str
    reading: str  # status, dose band, stated purpose
    understood: bool


@dataclass(frozen=True, slots=True)
class PlanView:
    kind: str  # "taper" or "titration"
    rule: str
    heading: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...]
    chart: Chart | None
    unavailable: str | None = None  # why there is no schedule


@dataclass(frozen=True, slots=True)
class Results:
    as_of: date
    cards: tuple[Card, ...]
    lines: tuple[UnderstoodLine, ...]
    conditions: tuple[tuple[str, str], ...]  # (as written, what it was read as)
    labs: tuple[str, ...]
    not_used: tuple[str, ...]
    plan: PlanView | None

    def count(self, severity: str) -> int:
        return sum(card.severity == severity for card in self.cards)


def build(evaluation: Evaluation, check: Check, terminology: Terminology | None = None) -> Results:
    record = evaluation.record
    where = _Where(check.medications)
    alerts = sorted(evaluation.alerts, key=lambda a: (SEVERITY_ORDER[a.rule.severity], a.rule.id))
    return Results(
        as_of=check.as_of,
        cards=tuple(_card(alert, where) for alert in alerts),
        lines=_lines(record.order, record.medications, record.problems, check, where),
        conditions=_conditions(check.request.get("conditions") or (), record, terminology),
        labs=tuple(f"{lab.name}: {lab.result} on {lab.taken.date().isoformat() if lab.taken else 'no date'}"
                   for lab in record.labs),
        not_used=tuple(where.words(entry) for entry in record.unused if not entry.startswith("conditions[")),
        plan=_plan(alerts, check),
    )


# ---- alert cards -----------------------------------------------------------------------------
def _card(alert: Alert, where: _Where) -> Card:
    rule = alert.rule
    return Card(
        rule=rule.id, version=rule.version, title=rule.title, category=rule.category, severity=rule.severity,
        summary=where.words(alert.summary), detail=where.words(alert.detail), rationale=alert.rationale,
        matched=tuple(dict.fromkeys(filter(None, (matched_in_words(fact, where.words) for fact in alert.matched)))),
        todo=tuple((s["label"], s.get("detail", "")) for s in alert.suggestions),
        thresholds=tuple(f"{p.name.replace('_', ' ')}: {format_number(p.value)} {p.unit}" for p in rule.parameters),
        sources=rule.sources,
    )


class _Where:
    """Request paths ("medications[2]") in the form's words ("medication line 3")."""

    def __init__(self, medications: Sequence[Line]) -> None:
        self.lines = {line.source: line.number for line in medications}

    def words(self, text: str) -> str:
        return re.sub(r"\b(medications|labs|conditions)\[(\d+)\]\s*", self._replace, text)

    def _replace(self, found: re.Match[str]) -> str:
        if found[1] == "medications" and found[0].strip() in self.lines:
            return f"medication line {self.lines[found[0].strip()]} "
        return "" if found[1] == "labs" else f"condition {int(found[2]) + 1}: "


# ---- how each line was understood --------------------------------------------------------------
def _lines(order: Medication | None, medications: Sequence[Medication], problems: Sequence[Problem], check: Check,
           where: _Where) -> tuple[UnderstoodLine, ...]:
    read = {medication.source: medication for medication in medications}
    found: list[UnderstoodLine] = []
    if check.request.get("order"):
        found.append(_line("order", check.request["order"]["text"], order, _problems_of("order", problems)))
    for line in check.medications:
        found.append(_line(f"line {line.number}", line.written, read.get(line.source),
                           _problems_of(line.source, problems)))
    return tuple(found)


def _problems_of(source: str, problems: Sequence[Problem]) -> list[Problem]:
    return [problem for problem in problems if problem.subject.startswith(f"{source} ")]


def _line(where: str, written: str, medication: Medication | None, problems: list[Problem]) -> UnderstoodLine:
    if medication is None or not medication.ingredients:
        reason = next((p.reason for p in problems if p.kind == "unrecognised-medication"), "not recognised")
        return UnderstoodLine(where, written, "—", "—", f"not understood: {reason}", "", False)
    dose_reason = next((p.reason for p in problems if p.kind in _DOSE_PROBLEMS), "no dose was given")
    doses = []
    for ingredient in medication.ingredients:
        if ingredient.inactive_reason:
            doses.append(f"{ingredient.name}: not counted ({ingredient.inactive_reason})")
        elif ingredient.daily_dose_mg is None:
            doses.append(f"{ingredient.name}: dose not understood: {dose_reason}")
        elif medication.as_needed:
            doses.append(f"{ingredient.name} up to {format_number(ingredient.daily_dose_mg)} mg/day as needed")
        else:
            doses.append(f"{ingredient.name} {format_number(ingredient.daily_dose_mg)} mg/day")
    return UnderstoodLine(
        where=where, written=written,
        ingredients=", ".join(i.name for i in medication.ingredients),
        classes=", ".join(medication.classes) or "—",
        daily_dose="; ".join(doses),
        reading=_reading(medication, where == "order"),
        understood=all(i.daily_dose_mg is not None or i.inactive_reason for i in medication.ingredients),
    )


def _reading(medication: Medication, is_order: bool) -> str:
    parts = []
    if not is_order:
        if medication.status == "stopped":
            stopped = medication.stopped
            parts.append(f"stopped {stopped.isoformat()}" if stopped else "stopped, date not given")
        else:
            parts.append(medication.status.replace("-", " "))
        if medication.started:
            parts.append(f"started {medication.started.isoformat()}")
    if medication.product:
        parts.append(f"product {medication.product}")
    if medication.dose_band:
        parts.append(f"dose band {_band(medication.dose_band)}")
    if medication.purpose:
        parts.append(f"stated purpose {_band(medication.purpose)}")
    if medication.dose_matches_purpose is False:
        parts.append("the dose does not match the stated purpose")
    if medication.time_of_day:
        when = medication.time_of_day
        parts.append(f"at {when}" if when == "bedtime" else f"in the {when}")
    if medication.route != "systemic":
        parts.append(medication.route)
    return "; ".join(parts)


def _band(word: str) -> str:
    """'uldn' → 'ULDN' (the abbreviations pharmacists write); 'standard' stays a word."""
    return word.upper() if "ldn" in word else word


def _conditions(entries: Sequence[Mapping[str, Any]], record: Any,
                terminology: Terminology | None = None) -> tuple[tuple[str, str], ...]:
    """Each condition line and its reading (the concept's name, e.g. "Cirrhosis of the liver"); the
    normalizer keeps the used ones in order."""
    used = iter(record.conditions)
    unused = {entry.split(" ", 1)[0] for entry in record.unused if entry.startswith("conditions[")}
    found = []
    for index, entry in enumerate(entries):
        written = " ".join(filter(None, (entry.get("code"), entry.get("text"))))
        if f"conditions[{index}]" in unused:
            found.append((written, "not a condition any rule uses"))
            continue
        condition = next(used, None)
        if condition is not None:
            concept = terminology.concepts.get(condition.concept) if terminology else None
            name = concept.label if concept else condition.concept.replace("-", " ")
            found.append((written, f"{name} ({condition.status})"))
    return tuple(found)


# ---- the plan -------------------------------------------------------------------------------
def _plan(alerts: Sequence[Alert], check: Check) -> PlanView | None:
    alert = next((a for a in alerts if a.rule.category in ("taper", "titration")), None)
    if alert is None:
        return None
    if alert.rule.category == "taper":
        taper = taper_for_alert(alert, check.as_of, check.years_on_opioids)
        if taper is None:
            return PlanView("taper", alert.rule.id, "Taper", (), (), (), None,
                            "No opioid dose could be read, so no schedule is given.")
        return _taper(alert.rule.id, taper, check.years_on_opioids is not None)
    titration = titration_for_alert(alert, check.as_of)
    if titration is None:
        return PlanView("titration", alert.rule.id, "Titration", (), (), (), None,
                        "The order's daily dose could not be read, so no schedule is given.")
    return _titration(alert.rule.id, titration)


def _taper(rule: str, found: TaperForAlert, years_given: bool) -> PlanView:
    plan, years = found.plan, found.years
    if plan is None:
        return PlanView("taper", rule, "Taper", (), (), (), None, found.error)
    how_long = ("how long opioids have been taken is not recorded, so the slower long-term rate is used"
                if years is None else f"opioids for {format_number(round(years, 1))} years, "
                                      + ("as given on the form" if years_given else "from the start dates"))
    rate = "a month" if found.monthly else "a week"
    rows = []
    for step in plan.steps:
        doses = "; ".join(f"{drug} {format_number(amount)} {unit} ({dispense})"
                          for drug, amount, unit, dispense in step.doses)
        rows.append((str(step.number), step.date.isoformat(), doses or "stop", format_number(step.total_mme),
                     f"{format_number(step.percent_of_start)}%", step.note))
    uldn = plan.steps[0].uldn if plan.steps else None
    notes = [(f"With {uldn} throughout. " if uldn else "") + "Follow up at least monthly."]
    if plan.follow_up:
        notes.append(f"Follow-up visits: {', '.join(day.isoformat() for day in plan.follow_up)}.")
    notes += [*plan.notes, plan.rules]
    chart = staircase(_taper_steps(plan.steps), "Taper: MME per day over time", "MME/day", "MME/day")
    return PlanView("taper", rule, f"Taper: about 10% {rate} from {format_number(plan.start_mme)} MME/day, "
                                   f"ULDN alongside ({how_long})",
                    ("step", "date", "doses", "MME/day", "% of start", "note"), tuple(rows), tuple(notes), chart)


def _taper_steps(steps: Sequence[Any]) -> list[Step]:
    found = []
    for index, step in enumerate(steps):
        if index + 1 < len(steps):
            until = steps[index + 1].date
        else:  # the stop: drawn for as long as the step before it
            until = step.date + (step.date - steps[index - 1].date if index else timedelta(days=7))
        found.append(Step(step.date, until, step.total_mme))
    return found


def _titration(rule: str, found: TitrationForAlert) -> PlanView:
    plan = found.plan
    if plan is None:
        return PlanView("titration", rule, "Titration", (), (), (), None, found.error)
    rows = tuple((str(s.number), s.start.isoformat(), s.end.isoformat(), f"{format_number(s.dose_mg)} mg",
                  s.time_of_day, s.dispense, s.note or "") for s in plan.steps)
    chart = staircase([Step(s.start, s.end + timedelta(days=1), s.dose_mg) for s in plan.steps],
                      "Titration: naltrexone dose per day over time", "mg/day", "mg/day")
    return PlanView("titration", rule, f"Titration ({plan.protocol}) up to {format_number(found.target_mg)} mg",
                    ("step", "from", "to", "dose", "when", "dispense", "note"), rows, plan.notes, chart)
