"""Which patient a FHIR resource (or a Bundle of one patient's resources) belongs to.

Bulk Data exports reference the patient as `Patient/<id>` (relative, or with the server's base URL
in front, possibly with `/_history/<version>`) in `subject` or, for AllergyIntolerance, `patient`.
A line that names no patient cannot be screened: `Unroutable` says why, in words for the report
(never the line's content, which may be PHI).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# The resource types screening reads, each bound to one patient. Medication is read too, through
# the medicationReference that names it (it is not bound to a patient). Add a type here for a check
# that needs it: every other type is skipped (its files are not even read).
PATIENT_TYPES = frozenset({"Patient", "MedicationRequest", "MedicationStatement", "Condition", "Observation",
                           "AllergyIntolerance", "Encounter"})
SHARED_TYPES = frozenset({"Medication"})

_ID = r"[A-Za-z0-9\-.]{1,64}"  # FHIR's id datatype
ID = re.compile(_ID)
_PATIENT_REFERENCE = re.compile(rf"(?:.*/)?Patient/({_ID})(?:/_history/[^/]+)?")  # fullmatch
_MEDICATION_REFERENCE = re.compile(rf"(?:.*/)?Medication/({_ID})(?:/_history/[^/]+)?")


class Unroutable(ValueError):
    """The line names no patient (or no Medication id) that screening could group it by."""


@dataclass(frozen=True, slots=True)
class Route:
    kind: str  # "patient", "medication" or "ignored"
    key: str = ""  # the patient id, or the Medication id


IGNORED = Route("ignored")


def route(resource: Any) -> Route:
    """Where a parsed line goes. Raises `Unroutable` with the reason when it cannot be screened."""
    if not isinstance(resource, Mapping):
        raise Unroutable("not a JSON object")
    kind = resource.get("resourceType")
    if not isinstance(kind, str) or not kind:
        raise Unroutable("no resourceType")
    if kind == "Patient":
        return Route("patient", _own_id(resource, "Patient"))
    if kind in PATIENT_TYPES:
        found = patient_reference(resource)
        if found is None:
            raise Unroutable(f"{kind} has no patient reference (subject or patient: Patient/<id>)")
        return Route("patient", found)
    if kind in SHARED_TYPES:
        return Route("medication", _own_id(resource, kind))
    if kind == "Bundle":
        found = bundle_patient(resource)
        if found is None:
            raise Unroutable("Bundle names no patient (no Patient entry with an id, no patient reference)")
        return Route("patient", found)
    return IGNORED


def patient_reference(resource: Mapping[str, Any]) -> str | None:
    """The patient id of `subject` or `patient`, if it is a reference to a Patient."""
    for field in ("subject", "patient"):
        value = resource.get(field)
        if isinstance(value, Mapping) and isinstance(value.get("reference"), str):
            found = _PATIENT_REFERENCE.fullmatch(value["reference"])
            if found:
                return found.group(1)
    return None


def medication_reference(resource: Mapping[str, Any]) -> str | None:
    """The Medication id a MedicationRequest or MedicationStatement names (R4, or R5's
    CodeableReference), if it names one outside itself (`#id` contained ones travel with it)."""
    value = resource.get("medicationReference")
    if value is None and isinstance(resource.get("medication"), Mapping):
        value = resource["medication"].get("reference")
    if isinstance(value, Mapping) and isinstance(value.get("reference"), str):
        found = _MEDICATION_REFERENCE.fullmatch(value["reference"])
        if found:
            return found.group(1)
    return None


def bundle_patient(bundle: Mapping[str, Any]) -> str | None:
    """The patient of a Bundle of one patient's resources: its Patient entry, else the first
    patient reference of an entry."""
    entries = [e.get("resource") for e in bundle.get("entry") or () if isinstance(e, Mapping)]
    resources = [r for r in entries if isinstance(r, Mapping)]
    for resource in resources:
        if resource.get("resourceType") == "Patient" and isinstance(resource.get("id"), str) \
                and ID.fullmatch(resource["id"]):
            return resource["id"]
    for resource in resources:
        found = patient_reference(resource)
        if found is not None:
            return found
    return None


def _own_id(resource: Mapping[str, Any], kind: str) -> str:
    value = resource.get("id")
    if not isinstance(value, str) or not ID.fullmatch(value):
        raise Unroutable(f"{kind} has no valid id")
    return value
