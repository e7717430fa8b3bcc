"""FHIR R4 (CDS Hooks context and prefetch) into the plain evaluation request.

`read_hook` maps what an EHR sends with a hook -- the draft orders in `context.draftOrders` and the
Patient, MedicationRequest, MedicationStatement, Condition and Observation resources of the
prefetch -- to the request shape of `cds.schemas.EvaluateRequestSchema` (JSON-like: dates stay ISO
strings, so the result is validated by `EVALUATE_REQUEST.load` like any API request). It knows no
rules and no terminology: codes and words are passed on for the normalizer to read, and what is
not passed on is said in `notes` (by path, never by clinical value).

Tolerant of what EHRs really send: STU3 shapes (a string `clinicalStatus`, `doseQuantity` directly
on the dosage, `context.medications`), Bundle entries that are bare resources, prefetch values
wrapped as `{"response": ..., "resource": ...}`, and a bare resource as `draftOrders`.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ..schemas import MAX_AGE, MAX_CONDITIONS, MAX_LABS, MAX_MEDICATIONS
from ..terminology import ICD10 as ICD10CM
from ..terminology import LOINC, RXNORM, SNOMED

ICD10 = "http://hl7.org/fhir/sid/icd-10"  # the international edition, which some EHRs send
UCUM = "http://unitsofmeasure.org"
_SYSTEMS = {
    RXNORM: RXNORM, "urn:oid:2.16.840.1.113883.6.88": RXNORM,
    ICD10CM: ICD10CM, "urn:oid:2.16.840.1.113883.6.90": ICD10CM,
    ICD10: ICD10, "urn:oid:2.16.840.1.113883.6.3": ICD10,
    SNOMED: SNOMED, "urn:oid:2.16.840.1.113883.6.96": SNOMED,
    LOINC: LOINC, "urn:oid:2.16.840.1.113883.6.1": LOINC,
}
_CONDITION_SYSTEMS = (ICD10CM, ICD10, SNOMED)  # in order of preference when a Condition has several

# The limits of schemas.py (text 500, code 64, system 200, unit 40, result 100, frequency 100).
_TEXT_MAX, _CODE_MAX, _UNIT_MAX, _RESULT_MAX = 500, 64, 40, 100
_MAX_DEPTH = 3  # Bundles inside Bundles (a batch-response of searchsets) are read this deep

# ---- statuses ------------------------------------------------------------------------------------
_MEDICATION_STATUS = {
    "active": "active", "draft": "active", "intended": "active",
    "on-hold": "on-hold",
    "completed": "stopped", "stopped": "stopped", "cancelled": "stopped",
    "unknown": "unknown",
}
_MEDICATION_SKIP = {"entered-in-error": "entered in error", "not-taken": "not taken"}
_INTENT_SKIP = {"proposal", "option"}  # suggestions, not what the patient takes
_CONDITION_STATUS = {"active": "active", "recurrence": "active", "relapse": "active",
                     "inactive": "resolved", "remission": "resolved", "resolved": "resolved"}
_CONDITION_SKIP = {"refuted", "entered-in-error"}
_OBSERVATION_SKIP = {"entered-in-error", "cancelled"}

# ---- timing --------------------------------------------------------------------------------------
# Timing.code (v3 GTSAbbreviation, and the HS/QHS that EHRs also send) in words the sig reader knows.
_TIMING_CODES = {
    "QD": "once daily", "BID": "twice daily", "TID": "three times daily", "QID": "four times daily",
    "QOD": "every other day", "AM": "once daily", "PM": "once daily",
    "BED": "at bedtime", "HS": "at bedtime", "QHS": "at bedtime", "WK": "weekly", "MO": "monthly",
}
_CODE_MOMENT = {"BED": "at bedtime", "HS": "at bedtime", "QHS": "at bedtime", "AM": "in the morning",
                "PM": "in the afternoon"}
_EVERY_CODE = re.compile(r"Q(\d+)(H|D)")
# Timing.repeat.when (EventTiming): the time of day, where the rules care about it.
_WHEN = {"HS": "at bedtime", "PHS": "at bedtime", "NIGHT": "at bedtime",
         "EVE": "in the evening", "EVE.early": "in the evening", "EVE.late": "in the evening",
         "MORN": "in the morning", "MORN.early": "in the morning", "MORN.late": "in the morning",
         "WAKE": "in the morning", "CM": "in the morning", "ACM": "in the morning", "PCM": "in the morning"}
_UNIT_HOURS = {"s": 1 / 3600, "min": 1 / 60, "h": 1, "d": 24, "wk": 168, "mo": 720, "a": 8760}
_UNIT_WORDS = {"h": "hour", "d": "day", "wk": "week", "mo": "month"}
_TIMES = {1: "once", 2: "twice", 3: "three times", 4: "four times"}

# ---- values --------------------------------------------------------------------------------------
# Coded qualitative answers in the words the result reader knows.
_ANSWERS = {
    (LOINC, "LA15173-0"): "pregnant", (LOINC, "LA26683-5"): "not pregnant", (LOINC, "LA4489-6"): "unknown",
    (LOINC, "LA6576-8"): "positive", (LOINC, "LA6577-6"): "negative",
    (LOINC, "LA11882-0"): "detected", (LOINC, "LA11883-8"): "not detected",
    (SNOMED, "77386006"): "pregnant", (SNOMED, "60001007"): "not pregnant",
    (SNOMED, "10828004"): "positive", (SNOMED, "260385009"): "negative",
    (SNOMED, "260373001"): "detected", (SNOMED, "260415000"): "not detected",
    ("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "POS"): "positive",
    ("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "NEG"): "negative",
}
_MASS_UNITS = {"mg", "ug", "mcg", "µg", "μg", "g", "ng"}
_VOLUME_UNITS = {"ml", "l", "cc"}
_FULL_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PARTIAL_DATE = re.compile(r"\d{4}(-\d{2})?")


@dataclass(frozen=True)
class DraftOrder:
    resource_type: str  # "MedicationRequest" (or other order types, which are not evaluated)
    resource_id: str | None  # the resource's id, so a card suggestion can delete/replace it
    resource: Mapping[str, Any]  # the FHIR resource as sent
    entry: dict[str, Any] | None  # the order in the plain request shape, or None if not a medication order


@dataclass(frozen=True)
class HookPatient:
    request: dict[str, Any]  # EvaluateRequest input without "order" (patient, medications, conditions, labs)
    draft_orders: tuple[DraftOrder, ...]  # from context.draftOrders (Bundle or bare resource)
    selections: tuple[str, ...]  # context.selections ("MedicationRequest/123")
    notes: tuple[str, ...]  # what was not used and why, by path


class FhirError(ValueError):
    """Structurally unusable input; the message names the path."""


def read_hook(hook: str, context: Mapping[str, Any], prefetch: Mapping[str, Any]) -> HookPatient:
    """The patient, medication list, conditions and labs of a hook call, and its draft orders."""
    if not isinstance(context, dict):
        raise FhirError("context: must be an object")
    if prefetch is None:
        prefetch = {}
    if not isinstance(prefetch, dict):
        raise FhirError("prefetch: must be an object")
    return _Reader(hook, context).read(prefetch)


def clip_to(request: Mapping[str, Any], when: datetime) -> tuple[dict[str, Any], tuple[str, ...]]:
    """`request` without what the schema refuses at evaluation time `when`: labs dated after it (a
    clock or time-zone mismatch between the EHR and this service) and a birth date after it."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    clipped = dict(request)
    notes = []
    labs = []
    for index, lab in enumerate(request.get("labs") or ()):
        taken = _parse_instant(lab.get("date"))
        if taken is not None and taken > when:
            notes.append(f"labs[{index}] (LOINC {lab.get('code')}): dated after the evaluation time, not used")
        else:
            labs.append(lab)
    if "labs" in request:
        clipped["labs"] = labs
    patient = request.get("patient") or {}
    born = patient.get("birthDate")
    oldest = when.date().replace(year=when.year - MAX_AGE).isoformat() if not (
        when.month == 2 and when.day == 29) else f"{when.year - MAX_AGE}-03-01"
    if isinstance(born, str) and _FULL_DATE.fullmatch(born) and not oldest <= born <= when.date().isoformat():
        clipped["patient"] = {k: v for k, v in patient.items() if k != "birthDate"}
        notes.append("patient.birthDate: after the evaluation time or over the oldest age, not used")
    return clipped, tuple(notes)


# ---- reading ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Found:
    path: str
    resource: Mapping[str, Any]
    full_url: str | None = None


@dataclass(frozen=True)
class _Drug:
    code: str | None = None
    name: str | None = None
    concentration: dict[str, Any] | None = None


class _Reader:
    def __init__(self, hook: str, context: Mapping[str, Any]) -> None:
        self.hook = hook
        self.context = context
        self.notes: list[str] = []
        self.unused_types: Counter[str] = Counter()
        self.medications: dict[str, Mapping[str, Any]] = {}  # "Medication/id" and fullUrl -> Medication

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def read(self, prefetch: Mapping[str, Any]) -> HookPatient:
        drafts = self._draft_resources()
        found: list[_Found] = []
        for key, value in prefetch.items():
            found += self._collect(value, f"prefetch.{key}", 0, strict=True)
        for item in (*drafts, *found):
            resource = item.resource
            if resource.get("resourceType") == "Medication" and isinstance(resource.get("id"), str):
                self.medications.setdefault(f"Medication/{resource['id']}", resource)
                if item.full_url:
                    self.medications.setdefault(item.full_url, resource)

        draft_orders = tuple(self._draft(item) for item in drafts
                             if item.resource.get("resourceType") != "Medication")
        draft_keys = {(d.resource_type, d.resource_id) for d in draft_orders if d.resource_id}
        patients: list[_Found] = []
        medications: list[dict[str, Any]] = []
        conditions: list[dict[str, Any]] = []
        labs: list[dict[str, Any]] = []
        seen: set[Any] = set()
        for item in found:
            resource = item.resource
            kind = resource["resourceType"]
            key = (kind, resource["id"]) if isinstance(resource.get("id"), str) else \
                json.dumps(resource, sort_keys=True, default=str)
            if key in seen:
                continue
            seen.add(key)
            if kind == "Patient":
                patients.append(item)
            elif kind in ("MedicationRequest", "MedicationStatement"):
                if key in draft_keys:
                    continue  # the order being written: the views decide where it goes
                entry = self._medication(item, order=False)
                if entry is not None:
                    medications.append(entry)
            elif kind == "Condition":
                entry = self._condition(item)
                if entry is not None:
                    conditions.append(entry)
            elif kind == "Observation":
                entry = self._observation(item)
                if entry is not None:
                    labs.append(entry)
            elif kind == "Medication":
                continue  # read through the medicationReference that names it
            else:  # AllergyIntolerance, Encounter, ...
                self.unused_types[kind] += 1

        request: dict[str, Any] = {
            "patient": self._patient(patients),
            "medications": self._capped(medications, MAX_MEDICATIONS, "medications", _medication_rank),
            "conditions": self._capped(conditions, MAX_CONDITIONS, "conditions", _condition_rank),
            "labs": self._capped(labs, MAX_LABS, "labs", _lab_rank),
        }
        for kind, count in sorted(self.unused_types.items()):
            why = "allergies are not part of the evaluation" if kind == "AllergyIntolerance" else \
                "not a resource type the evaluation reads"
            self.note(f"{count} {kind} resource{'s' if count > 1 else ''} in prefetch not used: {why}")
        return HookPatient(request, draft_orders, self._selections(), tuple(self.notes))

    # ---- the envelope's parts ------------------------------------------------------------------
    def _draft_resources(self) -> list[_Found]:
        path = "context.draftOrders"
        value = self.context.get("draftOrders")
        if value is None and self.context.get("medications") is not None:
            path = "context.medications"  # the pre-1.0 name (medication-prescribe)
            value = self.context["medications"]
            self.note("context.medications read as the draft orders (the name before CDS Hooks 1.0)")
        if value is None:
            return []
        if not isinstance(value, dict) or not isinstance(value.get("resourceType"), str):
            raise FhirError(f"{path}: must be a Bundle or a resource")
        if self.hook == "patient-view":
            self.note(f"{path}: not read in patient-view")
            return []
        found = self._collect(value, path, 0, strict=True, draft=True)
        return found

    def _selections(self) -> tuple[str, ...]:
        value = self.context.get("selections")
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise FhirError("context.selections: must be an array of references")
        chosen = []
        for index, item in enumerate(value):
            if isinstance(item, str) and item.strip():
                chosen.append(item.strip())
            else:
                self.note(f"context.selections[{index}]: not a reference, not used")
        return tuple(chosen)

    def _collect(self, value: Any, path: str, depth: int, strict: bool = False, draft: bool = False,
                 full_url: str | None = None) -> list[_Found]:
        """The resources in one prefetch value or Bundle entry (Bundles opened, wrappers removed)."""
        if value is None:
            return []
        if not isinstance(value, dict):
            if strict or draft:
                raise FhirError(f"{path}: must be a Bundle or a resource")
            self.note(f"{path}: not a FHIR resource, not used")
            return []
        if "resourceType" not in value and isinstance(value.get("resource"), dict):
            # {"response": {...}, "resource": {...}}: a batch-response entry used as a prefetch value
            return self._collect(value["resource"], f"{path}.resource", depth, strict, draft, full_url)
        kind = value.get("resourceType")
        if not isinstance(kind, str) or not kind:
            if draft:
                raise FhirError(f"{path}: must be a Bundle or a resource")
            self.note(f"{path}: not a FHIR resource (no resourceType), not used")
            return []
        if kind == "OperationOutcome":
            self.note(f"{path}: an OperationOutcome (the query failed), not used")
            return []
        if kind != "Bundle":
            return [_Found(path, value, full_url)]
        if depth >= _MAX_DEPTH:
            self.note(f"{path}: a Bundle nested too deep, not read")
            return []
        entries = value.get("entry")
        if entries is None:
            return []
        if not isinstance(entries, list):
            if draft:
                raise FhirError(f"{path}.entry: must be an array")
            self.note(f"{path}.entry: not an array, not read")
            return []
        found: list[_Found] = []
        for index, entry in enumerate(entries):
            where = f"{path}.entry[{index}]"
            if not isinstance(entry, dict):
                if draft:
                    raise FhirError(f"{where}: must be an object")
                self.note(f"{where}: not an object, not used")
                continue
            url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
            if isinstance(entry.get("resource"), dict):
                found += self._collect(entry["resource"], f"{where}.resource", depth + 1, draft=draft, full_url=url)
            elif isinstance(entry.get("resourceType"), str):  # an entry that is the resource itself
                found += self._collect(entry, where, depth + 1, draft=draft, full_url=url)
            elif draft:
                raise FhirError(f"{where}: has no resource")
            else:
                self.note(f"{where}: has no resource, not used")
        return found

    # ---- draft orders --------------------------------------------------------------------------
    def _draft(self, item: _Found) -> DraftOrder:
        resource = item.resource
        kind = resource["resourceType"]
        resource_id = resource.get("id") if isinstance(resource.get("id"), str) else None
        entry = None
        if kind == "MedicationRequest":
            entry = self._medication(item, order=True)
        else:
            self.note(f"{item.path}: a {kind}, not a medication order; not evaluated")
        return DraftOrder(kind, resource_id, resource, entry)

    # ---- medications ---------------------------------------------------------------------------
    def _medication(self, item: _Found, order: bool) -> dict[str, Any] | None:
        resource, path = item.resource, item.path
        kind = resource["resourceType"]
        raw_status = resource.get("status")
        if raw_status in _MEDICATION_SKIP:
            self.note(f"{path}: {kind} {_MEDICATION_SKIP[raw_status]}, not used")
            return None
        if resource.get("doNotPerform") is True:
            self.note(f"{path}: {kind} says do not perform, not used")
            return None
        if kind == "MedicationStatement" and str(resource.get("taken", "")).lower() == "n":
            self.note(f"{path}: MedicationStatement not taken, not used")
            return None
        if kind == "MedicationRequest" and not order and resource.get("intent") in _INTENT_SKIP:
            self.note(f"{path}: MedicationRequest with intent {resource['intent']}, not used")
            return None
        drug = self._drug(resource, path)
        if drug is None:
            return None

        entry: dict[str, Any] = {}
        dosages = resource.get("dosageInstruction" if kind == "MedicationRequest" else "dosage")
        dosages = [d for d in dosages if isinstance(d, dict)] if isinstance(dosages, list) else \
            [dosages] if isinstance(dosages, dict) else []
        sig = None
        if len(dosages) > 1 and all(_text(d.get("text")) for d in dosages):
            # Several instructions (a split or tapering dose) are one sig together: the reader then
            # sees every amount, and says so if they cannot be added up. One alone would under-read.
            sig = "; ".join(_text(d.get("text")) for d in dosages)
            self.note(f"{path}: {len(dosages)} dosage instructions, read from their texts together")
        elif dosages:
            if len(dosages) > 1:
                self.note(f"{path}: {len(dosages)} dosage instructions, only the first is read")
            dose, frequency, text = self._dosage(dosages[0], path)
            if dose is not None:
                entry["dose"] = dose
            if frequency is not None:
                entry["frequency"] = frequency
            if text and (dose is None or frequency is None):
                sig = text  # the words say what the structure does not (the service reads both)

        # Both the code and a text: the code is what the service reads first, the text names the
        # drug for people (an unrecognised code is reported by this name) and carries the sig when
        # the dosage is not structured.
        text = drug.name
        if sig:
            text = sig if text and _names_drug(sig, text) else " ".join(t for t in (text, sig) if t)
        if drug.code:
            entry["code"] = drug.code
            entry["system"] = RXNORM
        if text:
            if len(text) > _TEXT_MAX:
                self.note(f"{path}: medication text longer than {_TEXT_MAX} characters, cut")
                text = text[:_TEXT_MAX].rstrip()
            entry["text"] = text
        if not entry.get("code") and not entry.get("text"):
            self.note(f"{path}: {kind} names no medication (no RxNorm code or text), not used")
            return None
        if drug.concentration and entry.get("dose", {}).get("unit", "").lower() in _VOLUME_UNITS:
            entry["concentration"] = drug.concentration

        if not order:
            entry["status"] = _MEDICATION_STATUS.get(raw_status, "unknown")
            if raw_status not in _MEDICATION_STATUS:
                self.note(f"{path}: {kind} status {raw_status!r} not known, read as unknown")
        start_value, end_value = _period(resource)
        start = self._date(start_value, f"{path}: start")
        if start:
            entry["start"] = start
        # An end date only for what has stopped: an active request's validity end is not a stop.
        end = self._date(end_value, f"{path}: end") if entry.get("status") == "stopped" else None
        if end:
            if start and end < start:
                self.note(f"{path}: end before start, the start is not used")
                entry.pop("start")
            entry["end"] = end
        entry = {k: entry[k] for k in ("text", "code", "system", "dose", "concentration", "frequency",
                                       "status", "start", "end") if k in entry}
        return entry

    def _date(self, value: Any, what: str) -> str | None:
        """A FHIR date or dateTime as YYYY-MM-DD (its local date); partial dates are not given."""
        if value is None:
            return None
        if isinstance(value, str) and _FULL_DATE.match(value):
            try:
                return date.fromisoformat(value[:10]).isoformat()
            except ValueError:
                pass
        if isinstance(value, str) and _PARTIAL_DATE.fullmatch(value):
            self.note(f"{what} is a partial date ({'YYYY-MM' if '-' in value else 'YYYY'}), not used")
        else:
            self.note(f"{what} is not a FHIR date, not used")
        return None

    def _drug(self, resource: Mapping[str, Any], path: str) -> _Drug | None:
        concept = resource.get("medicationCodeableConcept")
        reference = resource.get("medicationReference")
        r5 = _mapping(resource.get("medication"))  # R5: medication is a CodeableReference
        if concept is None and reference is None and r5:
            concept, reference = r5.get("concept"), r5.get("reference")
        if isinstance(concept, dict):
            return _drug_from_concept(concept)
        if isinstance(reference, dict):
            target = reference.get("reference")
            medication = self._resolve(target, resource) if isinstance(target, str) else None
            if medication is not None:
                return self._drug_from_medication(medication, path)
            display = _text(reference.get("display"))
            if display:
                self.note(f"{path}: medicationReference not found in the request, read by its display")
                return _Drug(name=display)
            # Kept, by its reference, so the service reports a medication it could not check
            # (an unresolved opioid must not simply vanish).
            self.note(f"{path}: medicationReference not found in the request")
            return _Drug(name=f"medication {target if isinstance(target, str) else '(no reference)'} "
                              "not sent with the request")
        self.note(f"{path}: {resource['resourceType']} has no medication, not used")
        return None

    def _resolve(self, reference: str, resource: Mapping[str, Any]) -> Mapping[str, Any] | None:
        reference = reference.strip()
        if reference.startswith("#"):
            for contained in resource.get("contained") or ():
                if isinstance(contained, dict) and contained.get("id") == reference[1:] \
                        and contained.get("resourceType") == "Medication":
                    return contained
            return None
        if reference in self.medications:
            return self.medications[reference]
        reference = re.sub(r"/_history/[^/]+$", "", reference)
        found = re.search(r"(?:^|/)(Medication/[^/]+)$", reference)
        return self.medications.get(found.group(1)) if found else None

    def _drug_from_medication(self, medication: Mapping[str, Any], path: str) -> _Drug | None:
        drug = _drug_from_concept(_mapping(medication.get("code")))
        ingredients = [i for i in medication.get("ingredient") or () if isinstance(i, dict)
                       and i.get("isActive") is not False]
        strength = None
        concentration = None
        if len(ingredients) == 1:
            ingredient = ingredients[0]
            item = _drug_from_concept(_mapping(ingredient.get("itemCodeableConcept")))
            if drug.code is None and drug.name is None:
                drug = item
            strength, concentration = _strength(_mapping(ingredient.get("strength")))
        name = drug.name
        if strength and (name is None or not re.search(r"\d", name)):
            name = f"{name or ''} {strength}".strip()  # "naltrexone 4.5 mg/capsule"
        if drug.code is None and name is None:
            self.note(f"{path}: the Medication it names has no RxNorm code or text, not used")
            return None
        return _Drug(drug.code, name, concentration)

    def _dosage(self, dosage: Mapping[str, Any], path: str) -> tuple[dict[str, Any] | None, str | None, str | None]:
        """(dose {value, unit}, frequency in words, the instruction's text)."""
        text = _text(dosage.get("text"))
        quantity = None
        rates = dosage.get("doseAndRate")
        rates = [r for r in rates if isinstance(r, dict)] if isinstance(rates, list) else \
            [rates] if isinstance(rates, dict) else []
        rates = sorted(rates, key=lambda r: 0 if _codes(_mapping(r.get("type"))) & {"ordered"} else 1)
        for holder in (*rates, dosage):  # R4 doseAndRate, or STU3 doseQuantity/doseRange on the dosage
            if isinstance(holder.get("doseQuantity"), dict):
                quantity = holder["doseQuantity"]
                break
            if isinstance(holder.get("doseRange"), dict):
                quantity = _mapping(holder["doseRange"].get("high"))  # the most the order allows
                break
        dose = None
        if quantity is not None:
            value, unit = _number(quantity.get("value")), _unit(quantity)
            if value is None or value <= 0:
                self.note(f"{path}: dose value missing, zero or not a number; not used")
            elif unit is None:
                self.note(f"{path}: dose has no unit; not used")
            else:
                dose = {"value": value, "unit": unit}
        frequency = _frequency(_mapping(dosage.get("timing")))
        as_needed = dosage.get("asNeededBoolean") is True or dosage.get("asNeeded") is True \
            or isinstance(dosage.get("asNeededCodeableConcept"), dict)
        if frequency and as_needed:
            frequency = f"{frequency} as needed"
        if dosage.get("timing") and frequency is None:
            self.note(f"{path}: dosage timing gives no frequency that can be read")
        return dose, frequency, text

    # ---- conditions ----------------------------------------------------------------------------
    def _condition(self, item: _Found) -> dict[str, Any] | None:
        resource, path = item.resource, item.path
        verification = _status_code(resource.get("verificationStatus"))
        if verification in _CONDITION_SKIP:
            self.note(f"{path}: Condition {verification}, not used")
            return None
        clinical = _status_code(resource.get("clinicalStatus"))
        if clinical is None:
            has_abatement = any(k.startswith("abatement") for k in resource)
            status = "resolved" if has_abatement else "active"
        elif clinical in _CONDITION_STATUS:
            status = _CONDITION_STATUS[clinical]
        else:
            self.note(f"{path}: Condition clinical status {clinical!r} not known, read as active")
            status = "active"
        concept = _mapping(resource.get("code"))
        codings = [c for c in concept.get("coding") or () if isinstance(c, dict)]
        chosen = None
        for system in _CONDITION_SYSTEMS:
            chosen = next((c for c in codings if _system(c) == system and _code(c)), None)
            if chosen:
                break
        entry: dict[str, Any] = {}
        if chosen:
            entry["code"] = _code(chosen)
            entry["system"] = _system(chosen)
        text = _text(concept.get("text")) or (_text(chosen.get("display")) if chosen else None) or \
            next((_text(c.get("display")) for c in codings if _text(c.get("display"))), None)
        if text:
            entry["text"] = text[:_TEXT_MAX].rstrip()
        if not entry:
            self.note(f"{path}: Condition has no ICD-10 or SNOMED CT code and no text, not used")
            return None
        entry["status"] = status
        return entry

    # ---- observations --------------------------------------------------------------------------
    def _observation(self, item: _Found) -> dict[str, Any] | None:
        resource, path = item.resource, item.path
        status = resource.get("status")
        if status in _OBSERVATION_SKIP:
            self.note(f"{path}: Observation {status}, not used")
            return None
        concept = _mapping(resource.get("code"))
        loinc = next((_code(c) for c in concept.get("coding") or ()
                      if isinstance(c, dict) and _system(c) == LOINC and _code(c)), None)
        if loinc is None:
            self.note(f"{path}: Observation has no LOINC code, not used")
            return None
        if isinstance(resource.get("dataAbsentReason"), dict):
            self.note(f"{path}: Observation (LOINC {loinc}) has no value (dataAbsentReason), not used")
            return None
        entry: dict[str, Any] = {"code": loinc}
        if isinstance(resource.get("valueQuantity"), dict):
            quantity = resource["valueQuantity"]
            value = _number(quantity.get("value"))
            if value is None:
                self.note(f"{path}: Observation (LOINC {loinc}) valueQuantity has no number, not used")
                return None
            entry["value"] = value
            unit = _unit(quantity)
            if unit:
                entry["unit"] = unit
            if quantity.get("comparator"):
                self.note(f"{path}: Observation (LOINC {loinc}) comparator {quantity['comparator']!r} "
                          f"not kept: the value is read as the bound itself")
            ranges = resource.get("referenceRange")
            high = _mapping(_mapping(ranges[0]).get("high")) if isinstance(ranges, list) and ranges else {}
            high_value = _number(high.get("value"))
            if high_value is not None and high_value > 0 and _unit(high) in (None, unit):
                entry["referenceHigh"] = high_value
        elif isinstance(resource.get("valueCodeableConcept"), dict):
            result = _answer(resource["valueCodeableConcept"])
            if result is None:
                self.note(f"{path}: Observation (LOINC {loinc}) coded value has no code or text, not used")
                return None
            entry["result"] = result[:_RESULT_MAX]
        elif _text(resource.get("valueString")):
            entry["result"] = _text(resource["valueString"])[:_RESULT_MAX]
        elif isinstance(resource.get("valueBoolean"), bool):
            entry["result"] = "true" if resource["valueBoolean"] else "false"
        elif _number(resource.get("valueInteger")) is not None:
            entry["value"] = _number(resource["valueInteger"])
        else:
            self.note(f"{path}: Observation (LOINC {loinc}) has no value that can be read, not used")
            return None
        period = _mapping(resource.get("effectivePeriod"))
        for value in (resource.get("effectiveDateTime"), period.get("start"), resource.get("effectiveInstant"),
                      resource.get("issued")):
            taken = _instant(value)
            if taken:
                entry["date"] = taken
                break
        else:
            self.note(f"{path}: Observation (LOINC {loinc}) has no full date, not used")
            return None
        return entry

    # ---- the patient ---------------------------------------------------------------------------
    def _patient(self, patients: list[_Found]) -> dict[str, Any]:
        if not patients:
            return {}
        wanted = str(self.context.get("patientId") or "").rsplit("/", 1)[-1]
        chosen = next((p for p in patients if p.resource.get("id") == wanted), patients[0])
        if len(patients) > 1:
            self.note(f"{len(patients)} Patient resources in prefetch: {chosen.path} is read")
        resource = chosen.resource
        patient: dict[str, Any] = {}
        gender = resource.get("gender")
        if gender in ("female", "male", "other", "unknown"):
            patient["sex"] = gender
        elif gender is not None:
            self.note(f"{chosen.path}: Patient gender not a FHIR gender, read as unknown")
        born = resource.get("birthDate")
        if isinstance(born, str) and _FULL_DATE.fullmatch(born.strip()):
            born = self._date(born.strip(), f"{chosen.path}: Patient.birthDate")
            if born:
                patient["birthDate"] = born
        elif born is not None:
            # FHIR allows YYYY and YYYY-MM: an age from them would be a guess of up to a year.
            self._date(born, f"{chosen.path}: Patient.birthDate")
        return patient

    # ---- limits --------------------------------------------------------------------------------
    def _capped(self, entries: list[dict[str, Any]], limit: int, name: str, rank: Any) -> list[dict[str, Any]]:
        if len(entries) <= limit:
            return entries
        kept = sorted(range(len(entries)), key=lambda i: rank(entries[i]))[:limit]
        self.note(f"{len(entries)} {name} in prefetch: the {limit} most relevant are read (the limit of a request)")
        return [entries[i] for i in sorted(kept)]


# ---- small readers -----------------------------------------------------------------------------------
def _period(resource: Mapping[str, Any]) -> tuple[Any, Any]:
    """(start, end) of a MedicationRequest (authoredOn; the last day a supply dispensed within its
    validity could last) or a MedicationStatement (effective[x]). A request's end is never
    earlier than the medicine could still be taken: a later last dose would make an opioid-free
    interval look longer than it is."""
    if resource.get("resourceType") == "MedicationRequest":
        dispense = _mapping(resource.get("dispenseRequest"))
        end = _mapping(dispense.get("validityPeriod")).get("end")
        supply = _mapping(dispense.get("expectedSupplyDuration"))
        days = {"d": 1, "wk": 7, "mo": 30}.get(supply.get("code") or supply.get("unit"), None)
        value = supply.get("value")
        if isinstance(end, str) and _FULL_DATE.fullmatch(end[:10]) and days and isinstance(value, (int, float)) \
                and 0 < value < 1000:
            end = (date.fromisoformat(end[:10]) + timedelta(days=math.ceil(value * days))).isoformat()
        return resource.get("authoredOn"), end
    period = _mapping(resource.get("effectivePeriod"))
    return resource.get("effectiveDateTime") or period.get("start"), period.get("end")


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str | None:
    return " ".join(value.split()) or None if isinstance(value, str) else None


def _code(coding: Mapping[str, Any]) -> str | None:
    code = coding.get("code")
    if isinstance(code, str) and code.strip() and len(code.strip()) <= _CODE_MAX:
        return code.strip()
    return None


def _system(coding: Mapping[str, Any]) -> str | None:
    system = coding.get("system")
    return _SYSTEMS.get(system.strip(), system.strip()) if isinstance(system, str) else None


def _codes(concept: Mapping[str, Any]) -> set[str]:
    return {c["code"] for c in concept.get("coding") or () if isinstance(c, dict) and isinstance(c.get("code"), str)}


def _status_code(value: Any) -> str | None:
    """A status as R4 (CodeableConcept) or STU3 (a code) sends it."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for coding in value.get("coding") or ():
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return coding["code"].strip()
        return _text(value.get("text"))
    return None


def _number(value: Any) -> float | int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return value


def _unit(quantity: Mapping[str, Any]) -> str | None:
    """A quantity's unit: the UCUM code when it is one ("mg", "ug", "mL/min/{1.73_m2}"), else the
    unit as displayed ("tablet"), else the code without its annotation braces ("{tablet}")."""
    code = quantity.get("code") if isinstance(quantity.get("code"), str) else None
    unit = _text(quantity.get("unit"))
    system = quantity.get("system")
    if code and (system in (UCUM, None)) and not code.startswith("{") and code != "1":
        chosen = code
    else:
        chosen = unit or code
    if chosen:
        chosen = chosen.strip()
        if chosen.startswith("{") and chosen.endswith("}"):
            chosen = chosen[1:-1]
    return chosen[:_UNIT_MAX] if chosen else None


def _drug_from_concept(concept: Mapping[str, Any]) -> _Drug:
    codings = [c for c in concept.get("coding") or () if isinstance(c, dict)]
    rxnorm = [c for c in codings if _system(c) == RXNORM and _code(c)]
    chosen = next((c for c in rxnorm if c.get("userSelected") is True), rxnorm[0] if rxnorm else None)
    text = _text(concept.get("text"))
    name = text or (_text(chosen.get("display")) if chosen else None) or \
        next((_text(c.get("display")) for c in codings if _text(c.get("display"))), None)
    return _Drug(_code(chosen) if chosen else None, name)


def _strength(ratio: Mapping[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """An ingredient strength as words ("4.5 mg/capsule") and, for mass per volume, a concentration."""
    numerator, denominator = _mapping(ratio.get("numerator")), _mapping(ratio.get("denominator"))
    value, unit = _number(numerator.get("value")), _unit(numerator)
    if value is None or value <= 0 or unit is None:
        return None, None
    per_value = _number(denominator.get("value"))
    per_unit = _unit(denominator) if denominator else None
    if per_value is not None and per_value <= 0:
        return None, None
    per_value = per_value if per_value is not None else 1
    if per_unit and unit.lower() in _MASS_UNITS and per_unit.lower() in _VOLUME_UNITS:
        return (f"{_plain(value / per_value)} {unit}/{per_unit}",
                {"value": value / per_value, "unit": f"{unit}/{per_unit}"})
    if per_value == 1:
        return f"{_plain(value)} {unit}" + (f"/{per_unit}" if per_unit and per_unit != "1" else ""), None
    return None, None


def _answer(concept: Mapping[str, Any]) -> str | None:
    for coding in concept.get("coding") or ():
        if isinstance(coding, dict) and (_system(coding), _code(coding)) in _ANSWERS:
            return _ANSWERS[(_system(coding), _code(coding))]
    text = _text(concept.get("text"))
    if text:
        return text
    for coding in concept.get("coding") or ():
        if isinstance(coding, dict) and (_text(coding.get("display")) or _code(coding)):
            return _text(coding.get("display")) or _code(coding)
    return None


def _instant(value: Any) -> str | None:
    """A full FHIR date or dateTime as the schema reads it; None for partial or unreadable ones."""
    if not isinstance(value, str) or len(value) > 40 or not _FULL_DATE.match(value):
        return None
    return value if _parse_instant(value) is not None else None


def _parse_instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _plain(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _names_drug(sig: str, name: str) -> bool:
    """Whether a dosage text already names the drug (its first word of four letters or more)."""
    word = next((w for w in re.findall(r"[A-Za-z]{4,}", name)), None)
    return bool(word) and word.lower() in sig.lower()


def _frequency(timing: Mapping[str, Any]) -> str | None:
    """Timing as the words the sig reader knows: 'twice daily', 'every 6 hours', 'once daily at bedtime'."""
    repeat = _mapping(timing.get("repeat"))
    code = _status_code(timing.get("code"))
    code = code.upper().replace(" ", "") if code else None
    by_code = _TIMING_CODES.get(code) if code else None
    code_moment = _CODE_MOMENT.get(code) if code else None
    if code and by_code is None and (found := _EVERY_CODE.fullmatch(code)):
        by_code = f"every {found.group(1)} {'hours' if found.group(2) == 'H' else 'days'}"
    if by_code is None and code and isinstance(timing.get("code"), dict):
        by_code = _text(timing["code"].get("text"))  # an EHR's own words ("q12h with food")

    when = [w for w in repeat.get("when") or () if isinstance(w, str)]
    times_of_day = [t for t in repeat.get("timeOfDay") or () if isinstance(t, str)]
    moment = code_moment
    if len(when) == 1:
        moment = _WHEN.get(when[0]) or moment
    elif len(times_of_day) == 1:
        hour = int(times_of_day[0][:2]) if times_of_day[0][:2].isdigit() else None
        moment = "in the evening" if hour is not None and hour >= 18 else \
            "in the morning" if hour is not None and hour < 12 else None

    period = _number(repeat.get("period"))
    # The most a day the order allows; with no frequency stated, FHIR means once per period.
    count = _number(repeat.get("frequencyMax")) or _number(repeat.get("frequency")) or (1 if period else None)
    period_max = _number(repeat.get("periodMax"))
    unit = repeat.get("periodUnit")
    days = [d for d in repeat.get("dayOfWeek") or () if isinstance(d, str)]
    phrase = None
    if count is None and period is None:
        events = len(when) or len(times_of_day)
        if events and by_code is None:
            phrase = f"{_TIMES.get(events, f'{events} times')} daily"
        elif days and by_code is None:
            phrase = f"{len(days)} times a week"
        elif _number(repeat.get("count")) == 1 and by_code is None:
            phrase = "once"
    elif count and count > 0 and period and period > 0 and unit in _UNIT_HOURS:
        if days and unit == "d" and period == 1:
            phrase = f"{_plain(count * len(days))} times a week"
        elif count == 1 and period == 1 and unit == "d":
            phrase = "once daily"
        elif period == 1 and unit == "d":
            phrase = f"{_TIMES[int(count)]} daily" if count in _TIMES else f"{_plain(count)} times a day"
        elif count == 1 and period == 1 and unit in ("wk", "mo"):
            phrase = "weekly" if unit == "wk" else "monthly"
        elif period == 1 and unit in ("wk", "mo"):
            phrase = f"{_plain(count)} times a {_UNIT_WORDS[unit]}"
        elif count == 1 and unit in _UNIT_WORDS:
            word = _UNIT_WORDS[unit]
            if period_max and period_max > period:
                phrase = f"every {_plain(period)}-{_plain(period_max)} {word}s"
            else:
                phrase = f"every {_plain(period)} {word}{'s' if period != 1 else ''}"
        else:  # two every 3 days, or minutes and seconds: the interval in hours
            phrase = f"every {_plain(round(period * _UNIT_HOURS[unit] / count, 4))} hours"
    phrase = phrase or by_code
    if phrase and moment and moment not in phrase:
        phrase = f"{phrase} {moment}"
    elif phrase is None and moment:
        phrase = moment
    return phrase[:100] if phrase else None


# ---- when a request is over the schema's limits: what to keep --------------------------------------
_STATUS_RANK = {"active": 0, "on-hold": 1, "unknown": 2, "stopped": 3}


def _newest_first(value: Any) -> int:
    """A sort key that puts the latest ISO date first (and entries without one last)."""
    try:
        return -date.fromisoformat(str(value)[:10]).toordinal()
    except ValueError:
        return 0


def _medication_rank(entry: Mapping[str, Any]) -> tuple[int, int]:
    # Current first, then the most recently stopped or started.
    return _STATUS_RANK.get(entry.get("status", "active"), 2), _newest_first(entry.get("end") or entry.get("start"))


def _condition_rank(entry: Mapping[str, Any]) -> tuple[int, int]:
    return (0 if entry.get("status") == "active" else 1), (0 if entry.get("code") else 1)


def _lab_rank(entry: Mapping[str, Any]) -> int:
    return _newest_first(entry.get("date"))
