"""The LDN review of one patient: what the patient-view CDS Hooks service says when the chart opens.

Each current naltrexone therapy is reviewed as an order against the rest of the chart
(`cds.review.therapy_reviews`), with the same engine, rules and de-duplication
(`cds.review.evaluate_checks`) as `cds.hooks.views`, so screening a panel and opening each chart
give the same alerts. A patient on no naltrexone has nothing to review (no alerts).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from ..alerts import Alert
from ..review import evaluate_checks, therapy_reviews
from ..schemas import MedicationSchema
from ..service import Evaluator
from .prefetch import Resources

_SYSTEM = MedicationSchema().fields["system"].load_default  # what loading an entry adds when it has none
_PER_PATIENT = ("status", "start", "end")  # what loading changes and the reading does not depend on


def ldn_review(resources: Resources, as_of: datetime, context: Any) -> list[dict[str, Any]]:
    """`context` is a `cds.screening.patient.CheckContext`."""
    known = context.chart.request
    evaluator = context.evaluator
    if not _may_take_naltrexone(known, evaluator, as_of.date()):
        return []  # what therapy_reviews finds then: no therapy to review
    found = evaluate_checks(evaluator, known, therapy_reviews(known, evaluator, as_of), as_of)
    return [alert_line(alert) for _, alert in found]


def _may_take_naltrexone(known: Mapping[str, Any], evaluator: Evaluator, today: date) -> bool:
    """Whether any medication reads as naltrexone. Most of a panel takes none, and then
    `therapy_reviews` reviews nothing; asking the normalizer directly (its reading is cached per
    wording) spares the schema load it does first for every entry, most of a screen's time.
    Conservative: an entry the normalizer cannot read this way counts as maybe."""
    for entry in known.get("medications") or ():
        probe = {key: value for key, value in entry.items() if key not in _PER_PATIENT}
        probe.setdefault("system", _SYSTEM)
        try:
            read = evaluator.normalizer.medication(probe, "medications", today, [])
        except Exception:
            return True
        if read is not None and "naltrexone" in read.classes:
            return True
    return False


def alert_line(alert: Alert) -> dict[str, Any]:
    """An alert as a screening output line carries it: the fields of `Alert.to_dict()` a pharmacist
    works a list from (the detail is one `GET /v1/rules/{rule}` away)."""
    rule = alert.rule
    return {"rule": rule.id, "ruleVersion": rule.version, "category": rule.category, "severity": rule.severity,
            "summary": alert.summary}
