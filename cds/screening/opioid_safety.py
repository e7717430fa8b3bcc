"""The opioid-safety check of one patient: CDC 2022 Recommendation 11 (category
`concurrent-cns-depressant`), as the `opioid-safety-rec11-patient-view-v1` CDS service answers it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..opioid_safety import ChartError, OpioidSafety
from .context import UnreadableChart
from .evaluator import once_per_process
from .ldn_review import alert_line
from .prefetch import Resources


def concurrent_cns_depressants(resources: Resources, as_of: datetime, context: Any) -> list[dict[str, Any]]:
    """`context` is a `cds.screening.patient.CheckContext`."""
    pack = once_per_process(OpioidSafety)
    try:
        evaluation = pack.evaluate([r for found in resources.values() for r in found], as_of.date(),
                                   context.patient_id)
    except ChartError as error:
        raise UnreadableChart(str(error)) from None
    return [alert_line(alert) for alert in evaluation.alerts]
