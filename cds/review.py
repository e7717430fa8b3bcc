"""Which evaluations a patient's chart calls for, in the plain request shape (no HTTP, no FHIR).

An order being written is checked against the rest of the list (`order_checks`); a chart opened or
screened has each current naltrexone therapy reviewed as an order against the rest
(`therapy_reviews`). `evaluate_checks` runs them and keeps each finding once. Used by the CDS Hooks
services and by panel screening, so both give the same answer for the same chart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from marshmallow import ValidationError

from .alerts import Alert
from .schemas import EVALUATE_REQUEST, MAX_MEDICATIONS
from .service import Evaluator

Check = tuple[Any, dict[str, Any], list[dict[str, Any]]]  # (the draft it is about, order, medications)


def order_checks(known: Mapping[str, Any], drafts: list[Any], selected: list[Any]) -> list[Check]:
    """Each selected draft order (`.entry` in the request shape), with the other drafts (signed
    together) counted as current."""
    current = list(known.get("medications", []))
    # The other drafts first: if the list must be cut to the schema's limit, history goes, not them.
    return [(draft, draft.entry, ([d.entry for d in drafts if d is not draft] + current)[:MAX_MEDICATIONS])
            for draft in selected]


def therapy_reviews(known: Mapping[str, Any], evaluator: Evaluator, now: datetime) -> list[Check]:
    """Each current naltrexone therapy, reviewed as an order against the rest. The same therapy
    recorded twice (a MedicationRequest and a MedicationStatement) is one therapy."""
    medications = list(known.get("medications", []))
    therapies: dict[int, tuple[str | None, float | None]] = {}  # index → (product, naltrexone mg a day)
    today = now.date()
    try:  # the whole list at once (entries seen before cost nothing); one by one if some is invalid
        every: list[Any] | None = EVALUATE_REQUEST.load({"medications": medications})["medications"]
    except ValidationError:
        every = None
    for index, entry in enumerate(medications):
        if every is not None:
            loaded = every[index]
        else:
            try:
                loaded = EVALUATE_REQUEST.load({"medications": [entry]})["medications"][0]
            except ValidationError:
                continue  # reported when the whole request is loaded
        read = evaluator.normalizer.medication(loaded, f"medications[{index}]", today, [])
        if read is not None and read.status != "stopped" and "naltrexone" in read.classes:
            dose = next((i.daily_dose_mg for i in read.ingredients if "naltrexone" in i.classes), None)
            therapies[index] = (read.product, dose)
    reviews: list[Check] = []
    reviewed: set[tuple[str | None, float | None]] = set()
    for index, therapy in therapies.items():
        if therapy in reviewed:
            continue
        reviewed.add(therapy)
        order = {key: value for key, value in medications[index].items() if key not in ("status", "start", "end")}
        rest = [entry for other, entry in enumerate(medications) if therapies.get(other) != therapy]
        reviews.append((None, {**order, "review": True}, rest))
    return reviews


def evaluate_checks(evaluator: Evaluator, known: Mapping[str, Any], checks: Iterable[Check],
                    now: datetime) -> list[tuple[Any, Alert]]:
    """Every alert of every check, each finding (rule, summary) once, with the draft it is about.
    Raises marshmallow's ValidationError when the chart cannot be loaded as a request."""
    found: list[tuple[Any, Alert]] = []
    seen: set[tuple[str, str]] = set()
    for draft, order, medications in checks:
        body = {**known, "evaluationTime": now.isoformat(), "order": order, "medications": medications}
        for alert in evaluator.evaluate(EVALUATE_REQUEST.load(body)).alerts:
            key = (alert.rule.id, alert.summary)
            if key not in seen:  # the same finding about the medication list, once
                seen.add(key)
                found.append((draft, alert))
    return found
