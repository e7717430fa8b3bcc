"""The Recommendation 11 chart facts, point by point as the CDC opioid CDS IG computes them
(../shared/knowledge/cdc-rec11.md §2–§4, §8)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from cds.opioid_safety import Chart, ChartError, read_chart

T = date(2023, 5, 1)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OXYCODONE_ER = "1049502"  # 12 HR Oxycodone Hydrochloride 10 MG Extended Release Oral Tablet (opioid set)
FLURAZEPAM = "1298088"  # Flurazepam Hydrochloride 15 MG Oral Capsule (benzodiazepine set)
COMMUNITY = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                         "code": "community"}]}
CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"


def patient(birth: str | None = "1980-06-15") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": "p1", **({"birthDate": birth} if birth else {})}


def rx(code: str | None, authored: str | None = "2023-03-31", **changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "MedicationRequest", "id": f"rx-{code}", "status": "active",
                                "intent": "order", "category": [COMMUNITY], "subject": {"reference": "Patient/p1"},
                                **({"authoredOn": authored} if authored else {})}
    if code:
        resource["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": code}]}
    resource.update(changes)
    return resource


def condition(code: str, system: str = ICD10CM, category: str | None = "problem-list-item",
              status: str | None = "active", **changes: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "Condition", "id": f"c-{code}", "subject": {"reference": "Patient/p1"},
                                "code": {"coding": [{"system": system, "code": code}]}}
    if category:
        resource["category"] = [{"coding": [{"system": CATEGORY, "code": category}]}]
    if status:
        resource["clinicalStatus"] = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                  "code": status}]}
    resource.update(changes)
    return resource


def chart(*resources: dict[str, Any], birth: str | None = "1980-06-15", today: date = T) -> Chart:
    return read_chart([patient(birth), *resources], today)


BOTH = (rx(OXYCODONE_ER), rx(FLURAZEPAM))


def test_an_adult_with_an_opioid_and_a_benzodiazepine_is_included() -> None:
    found = chart(*BOTH)
    assert found.opioid_prescription and found.benzodiazepine_or_cns_depressant_prescription
    assert found.age_group == "adult" and found.inclusion is True and found.exclusion is False


@pytest.mark.parametrize("change, counts", [
    ({"status": "completed"}, False), ({"status": None}, False),
    ({"category": [{"coding": [{"system": COMMUNITY["coding"][0]["system"], "code": "outpatient"}]}]}, False),
    ({"category": None}, False), ({"intent": "plan"}, True), ({"authoredOn": "2021-05-01"}, True),
    ({"authoredOn": "2021-04-30"}, False), ({"authoredOn": "2023-05-02"}, False), ({"authoredOn": None}, False),
    ({"authoredOn": "2023-05-01T23:30:00-10:00"}, True),  # the date as written, no shift to UTC
    # CQL compares at the date's own precision: the edge's own month or year is null, dropped
    ({"authoredOn": "2023-05"}, False), ({"authoredOn": "2021-05"}, False), ({"authoredOn": "2021"}, False),
    ({"authoredOn": "2021-06"}, True), ({"authoredOn": "2022"}, True), ({"authoredOn": "2023-04"}, True),
    ({"subject": {"reference": "Patient/someone-else"}}, False),
    ({"dispenseRequest": {"validityPeriod": {"end": "2022-01-01"}}}, True),  # end dates are never read
])
def test_which_opioid_prescriptions_count(change: dict[str, Any], counts: bool) -> None:
    opioid = rx(OXYCODONE_ER)
    for key, value in change.items():
        if value is None:
            opioid.pop(key, None)
        else:
            opioid[key] = value
    assert chart(opioid, rx(FLURAZEPAM)).opioid_prescription is counts


def test_a_cns_depressant_counts_whatever_its_date_but_a_benzodiazepine_needs_the_window() -> None:
    zolpidem = next(code for code in ("854873", "854876", "854880", "854894", "854896")
                    if ("http://www.nlm.nih.gov/research/umls/rxnorm", code) in _members("cns-depressant-medications"))
    assert chart(rx(OXYCODONE_ER), rx(zolpidem, authored="2001-01-01")).benzodiazepine_or_cns_depressant_prescription
    assert chart(rx(OXYCODONE_ER), rx(zolpidem, authored=None)).benzodiazepine_or_cns_depressant_prescription
    assert not chart(rx(OXYCODONE_ER), rx(FLURAZEPAM, authored="2001-01-01")).benzodiazepine_or_cns_depressant_prescription


def _members(name: str) -> frozenset[tuple[str, str]]:
    from cds.opioid_safety.chart import valueset
    return valueset(name)


def test_ingredient_codes_are_not_members() -> None:
    assert not chart(rx("7804"), rx(FLURAZEPAM)).opioid_prescription  # oxycodone ingredient


def test_medication_references_resolve_by_the_last_segment_only() -> None:
    medication = {"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": RXNORM, "code": OXYCODONE_ER}]}}
    by_reference = {k: v for k, v in rx(None).items()}
    for reference, counts in (("Medication/m1", True), ("http://host/fhir/Medication/m1", True),
                              ("Medication/x/_history/m1", True), ("Medication/m1/", True), ("urn:uuid:m1", False),
                              ("#m1", False), ("Medication/m2", False), ("/", False)):
        request = {**by_reference, "medicationReference": {"reference": reference}}
        assert chart(request, medication, rx(FLURAZEPAM)).opioid_prescription is counts, reference
    request = {**by_reference, "medicationReference": {"reference": "Medication/m1"}}
    assert chart(request, medication, dict(medication), rx(FLURAZEPAM)).opioid_prescription  # the same, twice
    different = {**medication, "code": {"coding": [{"system": RXNORM, "code": FLURAZEPAM}]}}
    with pytest.raises(ChartError, match="Medication/m1"):
        chart(request, medication, different)


def test_the_system_must_be_exact() -> None:
    other = rx(OXYCODONE_ER)
    other["medicationCodeableConcept"]["coding"][0]["system"] = "urn:oid:2.16.840.1.113883.6.88"
    assert not chart(other, rx(FLURAZEPAM)).opioid_prescription


@pytest.mark.parametrize("birth, group", [
    ("2005-05-01", "adult"), ("2005-05-02", "under-18"), ("2005-06", "under-18"), ("2005-05", "unknown"),
    ("2005", "unknown"), ("1990", "adult"), (None, "unknown"), ("not a date", "unknown"),
])
def test_age_in_completed_years_and_partial_birth_dates(birth: str | None, group: str) -> None:
    found = chart(*BOTH, birth=birth)
    assert found.age_group == group
    assert found.inclusion is {"adult": True, "under-18": False, "unknown": None}[group]


def test_a_29_february_birthday_ages_on_1_march() -> None:
    assert chart(*BOTH, birth="2004-02-29", today=date(2022, 2, 28)).age_group == "under-18"
    assert chart(*BOTH, birth="2004-02-29", today=date(2022, 3, 1)).age_group == "adult"


SICKLE_CELL = "D57.00"


def test_sickle_cell_ignores_clinical_status_but_needs_a_us_core_category() -> None:
    assert chart(*BOTH, condition(SICKLE_CELL, status="resolved")).sickle_cell_disease
    assert not chart(*BOTH, condition(SICKLE_CELL, category=None)).sickle_cell_disease
    assert not chart(*BOTH, condition(SICKLE_CELL, category="other")).sickle_cell_disease
    assert chart(*BOTH, condition(SICKLE_CELL, category="encounter-diagnosis")).sickle_cell_disease
    assert chart(*BOTH, condition(SICKLE_CELL)).inclusion is False


def _a_code(name: str, system: str) -> str:
    return sorted(code for sys, code in _members(name) if sys == system)[0]


def test_active_cancer_treatment_from_two_encounters_in_the_last_12_months() -> None:
    cancer = _a_code("cdc-malignant-cancer-conditions", ICD10CM)

    def encounter(eid: str, start: str) -> dict[str, Any]:
        return {"resourceType": "Encounter", "id": eid, "status": "finished", "subject": {"reference": "Patient/p1"},
                "period": {"start": start}}

    def diagnosis(eid: str) -> dict[str, Any]:
        return condition(cancer, category="encounter-diagnosis", status=None, id=f"dx-{eid}",
                         encounter={"reference": f"Encounter/{eid}"})

    two = [encounter("e1", "2022-06-01"), encounter("e2", "2023-04-30"), diagnosis("e1"), diagnosis("e2")]
    assert chart(*BOTH, *two).active_cancer_treatment
    # the window is [T − 12 months, T): an encounter starting today does not count
    today = [encounter("e1", "2022-06-01"), encounter("e2", "2023-05-01"), diagnosis("e1"), diagnosis("e2")]
    assert not chart(*BOTH, *today).active_cancer_treatment
    old = [encounter("e1", "2022-04-30"), encounter("e2", "2023-04-30"), diagnosis("e1"), diagnosis("e2")]
    assert not chart(*BOTH, *old).active_cancer_treatment
    # [T − 12 months, T) is [2022-05-01, 2023-04-30]: a start written "2023-04" is null, not counted
    vague = [encounter("e1", "2022-06-01"), encounter("e2", "2023-04"), diagnosis("e1"), diagnosis("e2")]
    assert not chart(*BOTH, *vague).active_cancer_treatment
    # one encounter with two diagnoses counts once
    once = [encounter("e1", "2022-06-01"), diagnosis("e1"), {**diagnosis("e1"), "id": "dx-again"}]
    assert not chart(*BOTH, *once).active_cancer_treatment
    # the link is a plain suffix test: id "23" matches "Encounter/123"
    suffix = [encounter("23", "2022-06-01"), encounter("e2", "2023-04-30"), diagnosis("e2"),
              condition(cancer, category="encounter-diagnosis", id="dx-123", encounter={"reference": "Encounter/123"})]
    assert chart(*BOTH, *suffix).active_cancer_treatment


def test_active_cancer_from_the_problem_list_needs_an_active_code_in_any_system() -> None:
    cancer = _a_code("cdc-malignant-cancer-conditions", ICD10CM)
    active = condition(cancer)
    active["clinicalStatus"] = {"coding": [{"system": "urn:other", "code": "ACTIVE"}]}
    assert chart(*BOTH, active).active_cancer_treatment
    active["clinicalStatus"] = {"coding": [{"system": "urn:other", "code": " active "}]}  # ~ ignores case only
    assert not chart(*BOTH, active).active_cancer_treatment
    assert not chart(*BOTH, condition(cancer, status="remission")).active_cancer_treatment
    assert not chart(*BOTH, condition(cancer, category="health-concern")).active_cancer_treatment


def test_terminal_conditions_count_in_any_status_and_end_of_life_needs_active() -> None:
    terminal = _a_code("conditions-likely-terminal-for-opioid-prescribing", SNOMED)
    resolved = chart(*BOTH, condition(terminal, system=SNOMED, status="resolved"))
    assert resolved.condition_likely_terminal and not resolved.end_of_life and resolved.inclusion is False
    active = chart(*BOTH, condition(terminal, system=SNOMED))
    assert active.end_of_life and active.exclusion
    assert not chart(*BOTH, condition(terminal, system=SNOMED, status="recurrence")).end_of_life


def test_limited_life_expectancy_is_end_of_life_only_when_active() -> None:
    limited = _a_code("limited-life-expectancy-conditions", SNOMED)
    assert chart(*BOTH, condition(limited, system=SNOMED)).end_of_life
    assert not chart(*BOTH, condition(limited, system=SNOMED, status=None)).end_of_life


@pytest.mark.parametrize("status, start, hospice", [
    ("finished", "2022-05-01", True), ("in-progress", "2023-05-01", True), ("cancelled", "2023-01-01", False),
    ("triaged", "2023-01-01", False), (None, "2023-01-01", False), ("finished", "2022-04-30", False),
])
def test_hospice_discharge_in_the_last_year_is_end_of_life(status: str | None, start: str, hospice: bool) -> None:
    encounter: dict[str, Any] = {
        "resourceType": "Encounter", "id": "e1", "subject": {"reference": "Patient/p1"}, "period": {"start": start},
        "hospitalization": {"dischargeDisposition": {"coding": [{"system": SNOMED, "code": "385763009"}]}}}
    if status:
        encounter["status"] = status
    assert chart(*BOTH, encounter).end_of_life is hospice


def test_only_the_patient_in_context_counts() -> None:
    child = {"resourceType": "Patient", "id": "p2", "birthDate": "2015-01-01"}
    assert read_chart([child, patient(), *BOTH], T, "p1").age_group == "adult"
    assert read_chart([child, *BOTH], T, "p1").age_group == "unknown"  # no Patient p1: not known
    versioned = rx(OXYCODONE_ER, subject={"reference": "Patient/p1/_history/3"})
    assert read_chart([patient(), versioned, rx(FLURAZEPAM)], T, "p1").opioid_prescription


def test_the_same_encounter_sent_twice_counts_once() -> None:
    from cds.opioid_safety import flatten
    cancer = _a_code("cdc-malignant-cancer-conditions", ICD10CM)
    encounter = {"resourceType": "Encounter", "id": "e1", "status": "finished", "subject": {"reference": "Patient/p1"},
                 "period": {"start": "2022-06-01"}}
    dx = condition(cancer, category="encounter-diagnosis", status=None, encounter={"reference": "Encounter/e1"})
    bundle = {"resourceType": "Bundle", "entry": [{"resource": encounter}, {"resource": dx}]}
    assert not read_chart(flatten([patient(), bundle, bundle, *BOTH]), T).active_cancer_treatment


@pytest.mark.parametrize("shape", [
    {"medicationCodeableConcept": {"coding": 3}}, {"category": [{"coding": [{"system": ["x"], "code": {}}]}]},
    {"subject": "Patient/p1"}, {"authoredOn": 20230101}, {"status": ["active"]}, {"category": "community"},
])
def test_malformed_shapes_are_not_members_and_never_crash(shape: dict[str, Any]) -> None:
    assert not chart({**rx(OXYCODONE_ER), **shape}, rx(FLURAZEPAM)).opioid_prescription


def test_malformed_conditions_and_encounters_never_crash() -> None:
    bad = [{**condition("D57.00"), "clinicalStatus": {"coding": True}, "category": [{"coding": "x"}]},
           {"resourceType": "Encounter", "id": "e1", "status": ["finished"], "subject": {"reference": "Patient/p1"},
            "period": "2023", "hospitalization": {"dischargeDisposition": {"coding": 5}}},
           {**condition("C50.911", category="encounter-diagnosis"), "encounter": "Encounter/e1"}]
    assert chart(*BOTH, *bad).inclusion is True
