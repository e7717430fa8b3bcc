"""One patient's exported resources as the prefetch of the patient-view service.

What an EHR would answer to the service's own prefetch templates (`cds.hooks.services`):
`Patient/{id}`, `MedicationRequest?patient={id}&status=active,on-hold,completed,stopped`,
`MedicationStatement?patient={id}`, `Condition?patient={id}` and
`Observation?patient={id}&code=<the LOINC codes the rules use>`, each as a searchset Bundle, with
the Medications the orders reference as `_include`d entries. So a screened chart is read exactly
as the same chart opened in the EHR would be.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..terminology import LOINC

Resources = Mapping[str, Sequence[Mapping[str, Any]]]  # resourceType → that patient's resources

REQUEST_STATUSES = frozenset({"active", "on-hold", "completed", "stopped"})  # the template's status filter
_LOINC_SYSTEMS = frozenset({LOINC, "urn:oid:2.16.840.1.113883.6.1"})
_MATCH = {"mode": "match"}
_INCLUDE = {"mode": "include"}


def patient_view_prefetch(resources: Resources, loinc_codes: Collection[str]) -> dict[str, Any]:
    patients = resources.get("Patient") or ()
    medications = [_entry(m, _INCLUDE) for m in resources.get("Medication") or ()]
    requests = [r for r in resources.get("MedicationRequest") or () if _text(r.get("status")) in REQUEST_STATUSES]
    labs = [o for o in resources.get("Observation") or () if _has_loinc(o, loinc_codes)]
    return {
        "patient": patients[0] if patients else None,
        "medicationRequests": _searchset([_entry(r, _MATCH) for r in requests] + medications),
        # read_hook finds an _include'd Medication in any prefetch key: once is enough
        "medicationStatements": _searchset([_entry(s, _MATCH) for s in resources.get("MedicationStatement") or ()]),
        "conditions": _searchset([_entry(c, _MATCH) for c in resources.get("Condition") or ()]),
        "labs": _searchset([_entry(o, _MATCH) for o in labs]),
    }


def _searchset(entries: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "total": sum(e["search"] is _MATCH for e in entries),
            "entry": entries}


def _entry(resource: Mapping[str, Any], mode: Mapping[str, str]) -> dict[str, Any]:
    return {"resource": resource, "search": mode}


def _has_loinc(observation: Mapping[str, Any], codes: Collection[str]) -> bool:
    code = observation.get("code")
    if not isinstance(code, Mapping):
        return False
    for coding in code.get("coding") or ():
        if isinstance(coding, Mapping) and _text(coding.get("system")) in _LOINC_SYSTEMS \
                and _text(coding.get("code")) in codes:
            return True
    return False


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None  # FHIR of the wrong shape matches nothing
