"""What a per-patient check is given besides the resources: the patient, the Evaluator, and the
chart as the CDS Hooks reader reads it (read once, shared by every check that asks for it)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..hooks.fhir import FhirError, clip_to, read_hook
from ..service import Evaluator
from .prefetch import Resources, patient_view_prefetch


class UnreadableChart(Exception):
    """The patient's FHIR cannot be read; `reason` names where, never the clinical values."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Chart:
    request: dict[str, Any]  # the evaluation request shape without `order` (cds.schemas), clipped to as_of
    notes: tuple[str, ...]  # what the reader did not use, and why, by path


class CheckContext:
    def __init__(self, patient_id: str, resources: Resources, as_of: datetime, evaluator: Evaluator) -> None:
        self.patient_id = patient_id
        self.resources = resources
        self.as_of = as_of
        self.evaluator = evaluator
        self._chart: Chart | UnreadableChart | None = None

    @property
    def chart(self) -> Chart:
        """The chart as the patient-view service reads it: prefetch → `read_hook` → `clip_to`.
        Raises `UnreadableChart` (every time it is asked, from the one reading)."""
        if self._chart is None:
            self._chart = self._read()
        if isinstance(self._chart, UnreadableChart):
            raise self._chart
        return self._chart

    def _read(self) -> Chart | UnreadableChart:
        prefetch = patient_view_prefetch(self.resources, _loinc_codes(self.evaluator))
        try:
            hook = read_hook("patient-view", {"patientId": self.patient_id}, prefetch)
        except FhirError as error:
            return UnreadableChart(str(error))
        except (TypeError, ValueError, AttributeError, OverflowError, KeyError) as error:
            # FHIR of a shape no R4 resource has (a list where a code belongs...), as the service says it
            return UnreadableChart(f"FHIR data of an unexpected shape ({type(error).__name__}); "
                                   "check it against FHIR R4")
        known, clipped = clip_to(hook.request, self.as_of)
        return Chart(known, hook.notes + clipped)


@functools.lru_cache(maxsize=4)
def _loinc_codes(evaluator: Evaluator) -> frozenset[str]:
    # The codes of the service's own labs prefetch template (cds.hooks.services.prefetch_templates).
    return frozenset(evaluator.terminology.loinc_codes())
