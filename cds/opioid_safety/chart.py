"""One patient's FHIR R4 resources, read the way the CDC opioid CDS IG reads them for Recommendation 11.

`read_chart` gives the facts the rule in rules/opioid-safety/rec11.yaml tests. Every choice below
follows the IG's CQL (OpioidCDSREC11PatientView, OpioidCDSCommon, OpioidCDSRoutines 2022.1.0) as
../shared/knowledge/cdc-rec11.md states it, including what it does not check: no end dates,
intent or overlap in time; clinicalStatus read three different ways; conditions without a US Core
category invisible. CQL's nulls are kept where they change the answer: a date too vague to place
in a window drops the item, and a birth date that cannot tell under-18 from adult makes the age
"unknown" (so the rule, which needs an adult, does not apply). Configuration switches are the IG's
defaults (hospice findings off).
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..terminology import TERMINOLOGY_DIR

_VALUESETS = TERMINOLOGY_DIR / "valuesets"
_ENCOUNTER_STATUSES = {"planned", "arrived", "in-progress", "finished", "onleave"}
_ACTIVE_CANCER_ENCOUNTERS = 2


class ChartError(ValueError):
    """A chart the reference engine could not evaluate either (two different Medications with one id)."""


@dataclass(frozen=True, slots=True)
class Chart:
    """The Recommendation 11 facts about one patient on day `today`."""

    opioid_prescription: bool
    benzodiazepine_or_cns_depressant_prescription: bool
    age_group: str  # "adult", "under-18" or "unknown"
    sickle_cell_disease: bool
    active_cancer_treatment: bool
    condition_likely_terminal: bool
    end_of_life: bool

    def fact(self) -> dict[str, Any]:
        return {"fact": "chart", "opioid_prescription": self.opioid_prescription,
                "benzodiazepine_or_cns_depressant_prescription": self.benzodiazepine_or_cns_depressant_prescription,
                "age_group": self.age_group, "sickle_cell_disease": self.sickle_cell_disease,
                "active_cancer_treatment": self.active_cancer_treatment,
                "condition_likely_terminal": self.condition_likely_terminal, "end_of_life": self.end_of_life}

    @property
    def inclusion(self) -> bool | None:
        """The IG's "Inclusion Criteria" (None: not known, because the age is not)."""
        if not (self.opioid_prescription and self.benzodiazepine_or_cns_depressant_prescription):
            return False
        if self.sickle_cell_disease or self.active_cancer_treatment or self.condition_likely_terminal:
            return False
        return {"adult": True, "under-18": False}.get(self.age_group)

    @property
    def exclusion(self) -> bool:
        """The IG's "Exclusion Criteria": end of life."""
        return self.end_of_life


# ---- value sets ----------------------------------------------------------------------------------
@lru_cache(maxsize=None)
def valueset(name: str, directory: Path = _VALUESETS) -> frozenset[tuple[str, str]]:
    """A value set's expansion as (system, code) pairs: membership is exact on both (CQL `in`)."""
    document = json.loads((directory / f"{name}.json").read_text(encoding="utf-8"))
    return frozenset((entry["system"], entry["code"]) for entry in document["expansion"]["contains"])


def preload() -> None:
    """Read every value set now (at start-up), not on a first request."""
    for name in ("medicationrequest-category-community", "opioid-analgesics-with-ambulatory-misuse-potential",
                 "benzodiazepine-medications", "cns-depressant-medications", "condition-encounter-diagnosis-category",
                 "condition-problem-list-category", "condition-us-core-health-concern-category",
                 "sickle-cell-diseases", "cdc-malignant-cancer-conditions",
                 "conditions-likely-terminal-for-opioid-prescribing", "limited-life-expectancy-conditions",
                 "condition-clinical-status-active", "hospice-disposition"):
        valueset(name)


# The condition value sets Recommendation 11 reads: a condition in none of them changes nothing.
_CONDITION_SETS = ("sickle-cell-diseases", "cdc-malignant-cancer-conditions",
                   "conditions-likely-terminal-for-opioid-prescribing", "limited-life-expectancy-conditions")


@lru_cache(maxsize=None)
def _union(names: tuple[str, ...]) -> frozenset[tuple[str, str]]:
    return frozenset().union(*(valueset(name) for name in names))


def _in(concept: Any, name: str | frozenset[tuple[str, str]]) -> bool:
    """inVS: some coding of the concept has a system and code both in the value set."""
    if not isinstance(concept, dict):
        return False
    codings = concept.get("coding")
    if not isinstance(codings, list):
        return False
    members = valueset(name) if isinstance(name, str) else name
    return any(isinstance(c, dict) and isinstance(c.get("system"), str) and isinstance(c.get("code"), str)
               and (c["system"], c["code"]) in members for c in codings)


def _any_in(concepts: Any, name: str | frozenset[tuple[str, str]]) -> bool:
    return isinstance(concepts, list) and any(_in(concept, name) for concept in concepts)


# ---- dates ---------------------------------------------------------------------------------------
def _parts(value: Any) -> tuple[int, ...] | None:
    """A FHIR date/dateTime's calendar parts as written (no UTC shift): (year,), (year, month) or
    (year, month, day). None when absent or unreadable."""
    if not isinstance(value, str) or len(value) < 4:
        return None
    try:
        if len(value) >= 10:
            day = date(int(value[:4]), int(value[5:7]), int(value[8:10]))
            return day.year, day.month, day.day
        if len(value) >= 7:
            month = int(value[5:7])
            return (int(value[:4]), month) if 1 <= month <= 12 else None
        return (int(value[:4]),)
    except ValueError:
        return None


def _compare(parts: tuple[int, ...], edge: date) -> int | None:
    """CQL compares at the shorter precision: equal known parts with unknown smaller ones is null."""
    known = (edge.year, edge.month, edge.day)[:len(parts)]
    if parts == known:
        return 0 if len(parts) == 3 else None
    return 1 if parts > known else -1


def _within(value: Any, low: date, high: date, high_open: bool = False) -> bool | None:
    """d(value) in [low, high] (or [low, high), which CQL reads as [low, the day before high]);
    None when the date is absent or too vague to tell."""
    parts = _parts(value)
    if parts is None:
        return None
    if high_open:
        high = high - timedelta(days=1)
    above_low, below_high = _compare(parts, low), _compare(parts, high)
    if above_low == -1 or below_high == 1:
        return False
    if above_low is None or below_high is None:
        return None
    return True


def _years_before(day: date, years: int = 0, months: int = 0) -> date:
    """Calendar arithmetic as CQL does it: clamp to the month's end (29 Feb − 1 year = 28 Feb)."""
    month_index = day.year * 12 + day.month - 1 - years * 12 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


# ---- the chart -----------------------------------------------------------------------------------
def read_chart(resources: Iterable[Mapping[str, Any]], today: date, patient_id: str | None = None) -> Chart:
    """The Recommendation 11 facts from one patient's resources (any order; Bundles already opened).
    Resources pointing at another patient are ignored; `patient_id` defaults to the Patient's id."""
    if today.year < 100:
        raise ChartError(f"the evaluation date {today.isoformat()} is not a date CQL can count back from")
    by_type: dict[str, list[Mapping[str, Any]]] = {}
    for resource in resources:
        if isinstance(resource, dict) and isinstance(resource.get("resourceType"), str):
            by_type.setdefault(resource["resourceType"], []).append(resource)
    patients = by_type.get("Patient", [])
    if patient_id is None:
        patient = patients[0] if patients else {}
        patient_id = patient.get("id") if isinstance(patient.get("id"), str) else None
    else:  # only the patient in context: another patient's record says nothing about this one
        patient = next((p for p in patients if p.get("id") == patient_id), {})

    def mine(kind: str) -> list[Mapping[str, Any]]:
        return [r for r in by_type.get(kind, ()) if _points_at(r, patient_id)]

    medications = by_type.get("Medication", [])  # not tied to a patient: every one the engine sees
    requests = [r for r in mine("MedicationRequest") if r.get("status") == "active"
                and _any_in(r.get("category"), "medicationrequest-category-community")]
    two_years = (_years_before(today, years=2), today)
    opioid = benzo = False
    for request in requests:
        concept = _medication(request, medications)
        if concept is None:
            continue
        recent = _within(request.get("authoredOn"), *two_years)
        opioid = opioid or (recent is True and _in(concept, "opioid-analgesics-with-ambulatory-misuse-potential"))
        # CQL: (recent AND benzodiazepine) OR CNS depressant -- a CNS depressant counts whatever its date
        benzo = benzo or _in(concept, "cns-depressant-medications") or (
            recent is True and _in(concept, "benzodiazepine-medications"))

    relevant = _union(_CONDITION_SETS)
    conditions = [c for c in mine("Condition") if _in(c.get("code"), relevant)]
    categorized = [c for c in conditions if _us_core_categorized(c)]
    encounters = mine("Encounter")
    return Chart(
        opioid_prescription=opioid,
        benzodiazepine_or_cns_depressant_prescription=benzo,
        age_group=_age_group(patient.get("birthDate"), today),
        sickle_cell_disease=any(_in(c.get("code"), "sickle-cell-diseases") for c in categorized),
        active_cancer_treatment=_active_cancer(conditions, encounters, today),
        condition_likely_terminal=any(_in(c.get("code"), "conditions-likely-terminal-for-opioid-prescribing")
                                      for c in categorized),
        end_of_life=_end_of_life(categorized, encounters, today),
    )


def _points_at(resource: Mapping[str, Any], patient_id: str | None) -> bool:
    """The resource's subject (or patient) reference names the patient: its last "/" segment is the
    patient's id ("Patient/1", "http://host/fhir/Patient/1", and the bare "1" some EHRs send)."""
    if patient_id is None:
        return False
    for key in ("subject", "patient"):
        reference = resource.get(key)
        if isinstance(reference, dict) and isinstance(reference.get("reference"), str):
            return reference["reference"].split("/_history/")[0].rstrip("/").rsplit("/", 1)[-1] == patient_id
    return False


def _medication(request: Mapping[str, Any], medications: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The request's drug concept: its CodeableConcept, or the code of the one Medication whose id is
    the last "/" segment of the reference (contained "#id" and "urn:uuid:" references never resolve)."""
    if isinstance(request.get("medicationCodeableConcept"), dict):
        return request["medicationCodeableConcept"]
    reference = request.get("medicationReference")
    if not isinstance(reference, dict) or not isinstance(reference.get("reference"), str):
        return None
    pieces = [piece for piece in reference["reference"].split("/") if piece]  # CQL Split drops empty pieces
    if not pieces:
        return None
    wanted = pieces[-1]
    found = [m for m in medications if m.get("id") == wanted]
    if len(found) > 1 and any(m != found[0] for m in found[1:]):
        raise ChartError(f"Medication/{wanted} appears {len(found)} times: the reference is ambiguous")
    return found[0].get("code") if found else None


def _span(value: Any) -> tuple[date, date] | None:
    """The first and last calendar day a (possibly partial) date may be."""
    parts = _parts(value)
    if parts is None:
        return None
    if len(parts) == 3:
        return date(*parts), date(*parts)
    if len(parts) == 2:
        return date(*parts, 1), date(*parts, calendar.monthrange(*parts)[1])
    return date(parts[0], 1, 1), date(parts[0], 12, 31)


def _age_group(birth_date: Any, today: date) -> str:
    try:
        span = _span(birth_date)
    except ValueError:  # a year outside the calendar
        span = None
    if span is None:
        return "unknown"
    ages = {today.year - born.year - ((today.month, today.day) < (born.month, born.day)) for born in span}
    if all(age < 18 for age in ages):
        return "under-18"
    if all(age >= 18 for age in ages):
        return "adult"
    return "unknown"  # a partial birth date whose uncertainty crosses 18


def _us_core_categorized(condition: Mapping[str, Any]) -> bool:
    """Encounter diagnosis, problem-list item or US Core health concern: the only conditions CQL sees."""
    return _any_in(condition.get("category"), _union(("condition-encounter-diagnosis-category",
                                                      "condition-problem-list-category",
                                                      "condition-us-core-health-concern-category")))


def _active_cancer(conditions: Sequence[Mapping[str, Any]], encounters: Sequence[Mapping[str, Any]],
                   today: date) -> bool:
    """(a) at least 2 encounters started in [T − 12 months, T) with a cancer encounter diagnosis
    linked by a suffix test on the reference, or (b) a cancer problem-list item whose clinicalStatus
    code is "active" (CQL ~: case-insensitive, any system)."""
    cancer = [c for c in conditions if _in(c.get("code"), "cdc-malignant-cancer-conditions")]
    diagnoses = [c for c in cancer if _any_in(c.get("category"), "condition-encounter-diagnosis-category")]
    year = (_years_before(today, months=12), today)
    linked = 0
    for encounter in encounters:
        encounter_id = encounter.get("id")
        start = encounter["period"].get("start") if isinstance(encounter.get("period"), dict) else None
        if not isinstance(encounter_id, str) or _within(start, *year, high_open=True) is not True:
            continue
        if any(isinstance(c.get("encounter"), dict) and isinstance(c["encounter"].get("reference"), str)
               and c["encounter"]["reference"].endswith(encounter_id) for c in diagnoses):
            linked += 1
    if linked >= _ACTIVE_CANCER_ENCOUNTERS:
        return True
    return any(_any_in(c.get("category"), "condition-problem-list-category") and _status_code_is_active(c)
               for c in cancer)


def _status_code_is_active(condition: Mapping[str, Any]) -> bool:
    status = condition.get("clinicalStatus")
    codings = status.get("coding") or () if isinstance(status, dict) else ()
    return isinstance(codings, list) and any(isinstance(c, dict) and isinstance(c.get("code"), str)
                                             and c["code"].lower() == "active" for c in codings)


def _end_of_life(categorized: Sequence[Mapping[str, Any]], encounters: Sequence[Mapping[str, Any]],
                 today: date) -> bool:
    """(a) an active (system and code) terminal or limited-life-expectancy condition, or (b) an
    encounter started in [T − 1 year, T] discharged to hospice, in a status that happened or will."""
    for condition in categorized:
        if _in(condition.get("clinicalStatus"), "condition-clinical-status-active") and (
                _in(condition.get("code"), "conditions-likely-terminal-for-opioid-prescribing")
                or _in(condition.get("code"), "limited-life-expectancy-conditions")):
            return True
    year = (_years_before(today, years=1), today)
    for encounter in encounters:
        period = encounter["period"] if isinstance(encounter.get("period"), dict) else {}
        hospitalization = encounter.get("hospitalization")
        disposition = hospitalization.get("dischargeDisposition") if isinstance(hospitalization, dict) else None
        if (isinstance(encounter.get("status"), str) and encounter["status"] in _ENCOUNTER_STATUSES
                and _in(disposition, "hospice-disposition")
                and _within(period.get("start"), *year) is True):
            return True
    return False
