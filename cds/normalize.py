"""From a validated request (the JSON API's shape) to the normalized `PatientRecord`.

Adapters that speak other formats (FHIR, bulk NDJSON) map to this same request shape, so every
input meets one normalizer. What cannot be understood becomes a `Problem` (and so a
data-quality alert), never a silent drop and never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from .medications import MedicationReader
from .model import Condition, Lab, Medication, Patient, PatientRecord, Problem, format_number
from .terminology import Terminology

# The statuses schemas.py lets an input hold that mean "no longer present".
_RESOLVED = {"resolved", "inactive", "remission"}


class Normalizer:
    """Builds `PatientRecord`s with one terminology; build once at start-up."""

    def __init__(self, terminology: Terminology, cache_size: int = 16_384) -> None:
        self.terminology = terminology
        self.medications = MedicationReader(terminology, cache_size)
        # How long a negative pregnancy test counts, per analyte (labs.yaml `valid for days`).
        self._valid_days = {a.key: a.valid_for_days or 0 for a in terminology.analytes.values()}

    def record(self, request: Mapping[str, Any], now: datetime | None = None) -> PatientRecord:
        evaluation_time = request.get("evaluationTime") or now or datetime.now(timezone.utc)
        if evaluation_time.tzinfo is None:
            evaluation_time = evaluation_time.replace(tzinfo=timezone.utc)
        today = evaluation_time.date()
        record = PatientRecord(evaluation_time, Patient(None))
        if request.get("order"):
            record.order = self.medication(request["order"], "order", today, record.problems, is_order=True)
        for index, entry in enumerate(request.get("medications") or ()):
            medication = self.medication(entry, f"medications[{index}]", today, record.problems)
            if medication is not None:
                record.medications.append(medication)
        for index, entry in enumerate(request.get("conditions") or ()):
            condition = self.condition(entry)
            if condition is None:
                record.unused.append(f"conditions[{index}] {_label(entry)}: not a condition any rule uses")
            else:
                record.conditions.append(condition)
        self._labs(request.get("labs") or (), record)
        record.patient = self.patient(request.get("patient") or {}, record, today)
        return record

    # ---- patient ---------------------------------------------------------------------------
    def patient(self, data: Mapping[str, Any], record: PatientRecord, today: date) -> Patient:
        age = data.get("age")
        if age is None and data.get("birthDate"):
            born: date = data["birthDate"]
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        pregnancy, pregnancy_evidence = self._pregnancy(data.get("pregnancy") or {}, record)
        lactation, lactation_evidence = _status(data.get("lactation") or {}, "lactating", "not-lactating")
        found = _active_condition(record, "lactation")
        if found and lactation != "lactating":
            lactation, lactation_evidence = _unless_conflicting(record, "lactation", lactation, lactation_evidence,
                                                                "lactating", f"condition {found.code or found.name}")
        return Patient(age, data.get("sex", "unknown"), pregnancy, pregnancy_evidence, lactation, lactation_evidence)

    def _pregnancy(self, data: Mapping[str, Any], record: PatientRecord) -> tuple[str, str]:
        status, evidence = _status(data, "pregnant", "not-pregnant")
        if status == "pregnant":
            return status, evidence
        found = _active_condition(record, "pregnancy")
        if found:
            return _unless_conflicting(record, "pregnancy", status, evidence, "pregnant",
                                       f"condition {found.code or found.name}")
        for lab in sorted(record.labs, key=lambda lab: lab.taken or datetime.min, reverse=True):
            if lab.analyte not in ("hcg", "pregnancy-status") or lab.result is None:
                continue
            when = f"{lab.name} {lab.result} on {lab.taken.date().isoformat()}" if lab.taken else lab.name
            age_days = (record.evaluation_time - lab.taken).days if lab.taken else None
            current = age_days is not None and age_days <= self._valid_days[lab.analyte]
            if lab.interpretation == "positive":
                if status == "unknown":
                    return "pregnant", when
                if current:
                    return _unless_conflicting(record, "pregnancy", status, evidence, "pregnant", when)
                break  # an older positive test does not outweigh a status recorded since
            if lab.interpretation == "negative":
                if status != "unknown":
                    break  # the latest test agrees with the recorded status
                if current:
                    return "not-pregnant", when
        return status, evidence

    # ---- medications -----------------------------------------------------------------------    # ---- medications -----------------------------------------------------------------------
    def medication(self, data: Mapping[str, Any], source: str, today: date, problems: list[Problem],
                   is_order: bool = False) -> Medication | None:
        return self.medications.read(data, source, today, problems, is_order)

    # ---- conditions and labs ---------------------------------------------------------------
    def condition(self, data: Mapping[str, Any]) -> Condition | None:
        # A code is authoritative: its text is not read when it means no concept the rules use
        # (B18.2 "chronic viral hepatitis C" is not acute hepatitis, whatever the words suggest).
        if data.get("code"):
            concept = self.terminology.concept_for_code(data.get("system", "icd10"), data["code"])
        else:
            concept = self.terminology.concept_for_text(data.get("text") or "")
        if concept is None:
            return None
        status = "resolved" if data.get("status", "active") in _RESOLVED else "active"
        name = data.get("text") or self.terminology.concepts[concept].label
        return Condition(concept, name, data.get("code"), status)

    def _labs(self, entries: Any, record: PatientRecord) -> None:
        latest: dict[str, Lab] = {}
        for index, data in enumerate(entries):
            analyte = self.terminology.analyte_for_loinc(data["code"])
            if analyte is None:
                record.unused.append(f"labs[{index}] LOINC {data['code']}: not a result any rule uses")
                continue
            taken = data["date"]
            if taken.tzinfo is None:
                taken = taken.replace(tzinfo=timezone.utc)
            value = data.get("value")
            result = data.get("result")
            if analyte.qualitative:
                written = result or (format_number(value) if value is not None else None)
                lab = Lab(analyte.key, analyte.label, None, written, None, taken,
                          interpretation=self.terminology.result_meaning(written))
            else:
                if value is None:
                    record.problems.append(Problem("unrecognised-lab-unit", f"labs[{index}] {analyte.label}",
                                                   "no numeric value is given"))
                    continue
                unit = (data.get("unit") or "").strip()
                if unit.lower() in analyte.accepts or unit.lower() == (analyte.unit or "").lower():
                    factor = 1.0
                elif unit.lower() in analyte.convert:
                    factor = analyte.convert[unit.lower()]
                else:
                    record.problems.append(Problem(
                        "unrecognised-lab-unit", f"labs[{index}] {analyte.label} {value} {unit or '(no unit)'}",
                        f"unit {unit or '(none)'!r} is not one LDN CDS can compare; expected {analyte.unit}"))
                    continue
                converted = round(value * factor, 4) if factor != 1 else value
                upper = data.get("referenceHigh") or analyte.upper_limit
                if data.get("referenceHigh") and factor != 1:
                    upper = round(upper * factor, 4)  # the range is in the result's unit: convert both
                lab = Lab(analyte.key, analyte.label, converted, f"{format_number(converted)} {analyte.unit}",
                          analyte.unit, taken, upper)
            current = latest.get(analyte.key)
            if current is None or (lab.taken and current.taken and lab.taken > current.taken):
                latest[analyte.key] = lab
        record.labs = list(latest.values())
        record.missing_labs = [(a.key, a.label) for a in self.terminology.analytes.values()
                               if not a.qualitative and a.key not in latest]


def _active_condition(record: PatientRecord, concept: str) -> Condition | None:
    return next((c for c in record.conditions if c.concept == concept and c.status == "active"), None)


def _unless_conflicting(record: PatientRecord, what: str, status: str, evidence: str, found: str,
                        found_evidence: str) -> tuple[str, str]:
    """`found` (shown by `found_evidence`) when nothing was recorded; when the recorded `status`
    says otherwise, neither is believed: "unknown", and a conflicting-record problem."""
    if status == "unknown":
        return found, found_evidence
    recorded = f"recorded as {status}" + (f" ({evidence})" if evidence != f"recorded as {status}" else "")
    reason = f"{recorded}, but {found_evidence} says {found}"
    record.problems.append(Problem("conflicting-record", f"patient.{what}", reason))
    return "unknown", f"the record conflicts: {reason}"


def _status(data: Mapping[str, Any], yes: str, no: str) -> tuple[str, str]:
    status = data.get("status", "unknown")
    if status == "unknown":
        return "unknown", "not documented"
    evidence = data.get("evidence") or f"recorded as {status}"
    return (yes if status == yes else no), evidence


def _label(entry: Mapping[str, Any]) -> str:
    return " ".join(str(entry[k]) for k in ("system", "code", "text") if entry.get(k))
