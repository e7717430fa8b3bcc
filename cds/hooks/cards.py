"""Alerts as CDS Hooks 2.0 cards: one card per alert, FHIR actions where one makes sense.

The card says what matched, why, what to do and where it comes from; `source.topic.code` is the
alert category; the override reasons are HL7's non-adherence reason codes.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from ..alert_plans import (
    TaperForAlert,
    TitrationForAlert,
    taper_for_alert,
    titration_for_alert,
)
from ..alerts import Alert, matched_in_words
from ..ids import uuid4
from ..model import format_number
from ..terminology import LOINC

CATEGORY_SYSTEM = "https://ldn-cds.org/CodeSystem/alert-category"
_OVERRIDE_REASONS = Path(__file__).resolve().parents[2] / "rules" / "reference" / "override-reasons"
SUMMARY_BELOW = 140  # CDS Hooks: a summary of fewer than 140 characters
# Enough to stop a medication name becoming a link, an image, HTML or emphasis.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>!#])")
# What the rules' suggestion actions order, as LOINC panels and tests a FHIR ServiceRequest names.
_TESTS = {
    "order-liver-tests": ("24325-3", "Hepatic function 2000 panel - Serum or Plasma"),
    "order-pregnancy-test": ("2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine"),
}
_UNIT_SWAP = {"mg": ("ug", "µg"), "ug": ("mg", "mg"), "mcg": ("mg", "mg"), "µg": ("mg", "mg")}


@dataclass(frozen=True, slots=True)
class CardContext:
    """What a card needs beyond the alert: where links point and which order it is about."""

    base_url: str  # the service's external base URL, e.g. "https://cds.example.org"
    patient_id: str | None = None
    order_resource: Mapping[str, Any] | None = None  # the draft MedicationRequest the alert is about
    order_reference: str | None = None  # "MedicationRequest/123"


@cache
def override_reasons() -> tuple[dict[str, str], ...]:
    """HL7's clinical non-adherence reasons (the ValueSet), with displays from the CodeSystem."""
    code_system = json.loads((_OVERRIDE_REASONS / "CodeSystem-non-adherence-reason-codes.json").read_text("utf-8"))
    value_set = json.loads((_OVERRIDE_REASONS / "ValueSet-non-adherence-reason-clinical.json").read_text("utf-8"))
    displays: dict[str, str] = {}

    def walk(concepts: list[dict[str, Any]]) -> None:
        for concept in concepts:
            displays[concept["code"]] = concept["display"].rstrip("*")
            walk(concept.get("concept", []))

    walk(code_system["concept"])
    return tuple({"code": c["code"], "system": include["system"], "display": displays[c["code"]]}
                 for include in value_set["compose"]["include"] for c in include["concept"])


def _md(text: str) -> str:
    """Plain text (with patient-entered values in it) made inert inside Markdown."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def card(alert: Alert, context: CardContext, today: date | None = None) -> dict[str, Any]:
    rule = alert.rule
    rule_url = f"{context.base_url}/v1/rules/{rule.id}"
    suggestions = [s for s in (_suggestion(item, context) for item in alert.suggestions) if s is not None]
    body: dict[str, Any] = {
        "uuid": str(uuid4()),
        "summary": alert.summary if len(alert.summary) < SUMMARY_BELOW else alert.summary[:SUMMARY_BELOW - 2] + "…",
        "indicator": rule.severity,  # the rule severities are CDS Hooks' indicators
        "detail": detail_markdown(alert) + _plan_markdown(alert, today or date.today()),
        "source": {
            "label": f"LDN CDS: {rule.title}"[:140],
            "url": rule_url,
            "topic": {"system": CATEGORY_SYSTEM, "code": rule.category, "display": rule.category.replace("-", " ")},
        },
        "overrideReasons": [dict(reason) for reason in override_reasons()],
        "links": [{"label": f"Rule {rule.id} v{rule.version}: conditions, thresholds and sources",
                   "url": rule_url, "type": "absolute"},
                  *({"label": source.label if len(source.label) <= 140 else source.label[:139] + "…",
                     "url": source.url, "type": "absolute"} for source in rule.sources if source.url)],
    }
    if suggestions:
        body["suggestions"] = suggestions
        body["selectionBehavior"] = "any"
    return body


def detail_markdown(alert: Alert) -> str:
    rule = alert.rule
    lines = [_md(alert.detail), "", "**Why:** " + _md(alert.rationale), ""]
    matched = [matched_in_words(fact) for fact in alert.matched]
    lines += ["**What matched:**", *[f"- {_md(words)}" for words in matched if words], ""]
    if alert.suggestions:
        lines += ["**What to do:**"]
        lines += [f"- {_md(s['label'])}" + (f": {_md(s['detail'])}" if s.get("detail") else "")
                  for s in alert.suggestions]
        lines.append("")
    if rule.parameters:
        lines.append("**Thresholds:** " + "; ".join(f"{p.name.replace('_', ' ')} {format_number(p.value)} {p.unit}"
                                                     for p in rule.parameters))
        lines.append("")
    lines.append("**Sources:** " + "; ".join(f"[{s.label}]({s.url})" if s.url else s.label for s in rule.sources))
    lines.append(f"\n*Rule {rule.id} v{rule.version} ({rule.category}).*")
    return "\n".join(lines).strip()


def _plan_markdown(alert: Alert, today: date) -> str:
    """The plan a taper or titration card carries: the schedule itself, not only advice."""
    if alert.rule.category == "taper":
        return taper_markdown(alert, today)
    if alert.rule.category == "titration":
        return titration_markdown(alert, today)
    return ""


def titration_markdown(alert: Alert, today: date) -> str:
    """Start low and go slow, as dates and capsules: the seed's protocol up to the ordered dose."""
    found = titration_for_alert(alert, today)
    if found is None:
        return ""
    return _titration_table(found)


def _titration_table(found: TitrationForAlert) -> str:
    plan = found.plan
    if plan is None:
        return f"\n\n**Titration:** {_md(str(found.error))}"
    lines = ["", "", f"**Titration ({plan.protocol}) up to {format_number(found.target_mg)} mg:**", "",
             "| from | to | dose | dispense |", "|---|---|---|---|"]
    lines += [f"| {s.start.isoformat()} | {s.end.isoformat()} | {format_number(s.dose_mg)} mg | {_md(s.dispense)} |"
              for s in plan.steps]
    lines += ["", *[_md(note) for note in plan.notes]]
    return "\n".join(lines)


def taper_markdown(alert: Alert, today: date) -> str:
    """The opioid taper for the opioids a taper alert matched, as a Markdown table (or why not)."""
    found = taper_for_alert(alert, today)
    if found is None:
        return "\n\n**Taper:** no opioid dose could be read, so no schedule is given."
    return _taper_table(found)


def _taper_table(found: TaperForAlert) -> str:
    plan, years = found.plan, found.years
    if plan is None:
        return f"\n\n**Taper:** {_md(str(found.error))}"
    how_long = (f"opioids for {years:.1f} years" if years is not None
                else "how long opioids have been taken is not recorded, so the slower long-term rate is used")
    rate = "a month" if found.monthly else "a week"
    lines = ["", "", f"**Taper (about 10% {rate}; {how_long}):** from {plan.start_mme:g} MME/day, ULDN alongside.", "",
             "| step | date | doses | MME/day | % of start | note |", "|---|---|---|---|---|---|"]
    for step in plan.steps:
        doses = "; ".join(f"{drug} {format_number(amount)} {unit} ({dispense})" for drug, amount, unit, dispense in step.doses)
        lines.append(f"| {step.number} | {step.date.isoformat()} | {_md(doses or 'stop')} | {step.total_mme:g} | "
                     f"{step.percent_of_start:g}% | {_md(step.note)} |")
    uldn = plan.steps[0].uldn if plan.steps else None
    lines += ["", f"With {uldn} throughout. Follow up at least monthly." if uldn else "Follow up at least monthly.",
              "", _md(plan.rules)]
    return "\n".join(lines)


def _suggestion(item: Mapping[str, str], context: CardContext) -> dict[str, Any] | None:
    """A rule suggestion with an action becomes a card suggestion; advice-only ones stay in the detail."""
    action_kind = item.get("action")
    if action_kind is None:
        return None
    action = _action(action_kind, item["label"], context)
    if action is None:
        return None
    return {"label": item["label"], "uuid": str(uuid4()), "isRecommended": False, "actions": [action]}


def _action(kind: str, label: str, context: CardContext) -> dict[str, Any] | None:
    if kind == "cancel-this-order":
        if not context.order_reference:
            return None
        return {"type": "delete", "description": label, "resourceId": context.order_reference}
    if kind in _TESTS:
        code, display = _TESTS[kind]
        resource: dict[str, Any] = {
            "resourceType": "ServiceRequest",
            "status": "draft",
            "intent": "proposal",
            "code": {"coding": [{"system": LOINC, "code": code, "display": display}], "text": display},
        }
        if context.patient_id:
            resource["subject"] = {"reference": f"Patient/{context.patient_id}"}
        return {"type": "create", "description": label, "resource": resource}
    if kind == "rewrite-dose-in-intended-unit":
        return _rewritten_unit(label, context)
    return None


def _rewritten_unit(label: str, context: CardContext) -> dict[str, Any] | None:
    """The same order with its dose unit swapped mg ⇄ µg (only when the dose is structured)."""
    if not context.order_resource:
        return None
    updated = copy.deepcopy(dict(context.order_resource))
    changed = False
    for dosage in updated.get("dosageInstruction") or ():
        if not isinstance(dosage, dict) or not isinstance(dosage.get("doseAndRate"), list):
            continue
        for dose_and_rate in dosage["doseAndRate"]:
            quantity = dose_and_rate.get("doseQuantity") if isinstance(dose_and_rate, dict) else None
            unit = (quantity.get("code") or quantity.get("unit")) if isinstance(quantity, dict) else None
            if not isinstance(unit, str) or unit not in _UNIT_SWAP:
                continue
            code, shown = _UNIT_SWAP[unit]
            quantity.update(code=code, unit=shown, system="http://unitsofmeasure.org")
            changed = True
    if not changed:
        return None
    for dosage in updated.get("dosageInstruction") or ():
        # The written sig still says the old unit: drop it rather than contradict the new dose.
        for stale in ("text", "patientInstruction"):
            dosage.pop(stale, None)
    return {"type": "update", "description": f"{label}: dose unit changed to {shown}", "resource": updated}
