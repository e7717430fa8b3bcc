"""The opioid-safety screening check: CDC Recommendation 11 on each patient of a panel."""

from __future__ import annotations

from typing import Any

from cds.screening.opioid_safety import concurrent_cns_depressants
from cds.screening.patient import CHECKS, Check, screen_patient
from cds.service import Evaluator

from .conftest import AS_OF, RXNORM, order, patient

COMMUNITY = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                          "code": "community"}]}]


def opioid(pid: str) -> dict[str, Any]:  # 12 HR oxycodone 10 MG ER tablet: in the CDC opioid value set
    return order(pid, "oxy", "1049502", "oxycodone 10 mg ER", category=COMMUNITY)


def alprazolam(pid: str) -> dict[str, Any]:  # alprazolam 0.5 MG Oral Tablet: in the benzodiazepine value set
    return order(pid, "alp", "308048", "alprazolam 0.5 mg", category=COMMUNITY)


def test_rec11_is_a_check_of_every_patient() -> None:
    assert Check("concurrent-cns-depressant", concurrent_cns_depressants) in CHECKS


def test_an_adult_on_an_opioid_and_a_benzodiazepine_gets_the_rec11_line(evaluator: Evaluator) -> None:
    line = screen_patient("p1", {"Patient": [patient("p1")], "MedicationRequest": [opioid("p1"), alprazolam("p1")]},
                          AS_OF, evaluator)
    assert [(a["rule"], a["category"], a["severity"]) for a in line["alerts"]] == [
        ("CDC-REC11-001", "concurrent-cns-depressant", "warning")]


def test_no_benzodiazepine_or_no_community_category_no_line(evaluator: Evaluator) -> None:
    alone = screen_patient("p1", {"Patient": [patient("p1")], "MedicationRequest": [opioid("p1")]}, AS_OF, evaluator)
    assert alone["alerts"] == []
    uncategorised = {**alprazolam("p1")}
    del uncategorised["category"]
    both = screen_patient("p1", {"Patient": [patient("p1")], "MedicationRequest": [opioid("p1"), uncategorised]},
                          AS_OF, evaluator)
    assert both["alerts"] == []


def test_an_ambiguous_medication_reference_is_an_error_naming_the_check(evaluator: Evaluator) -> None:
    by_reference = {**opioid("p1"), "medicationReference": {"reference": "Medication/m1"}}
    del by_reference["medicationCodeableConcept"]
    medications = [{"resourceType": "Medication", "id": "m1", "code": {"coding": [{"system": RXNORM, "code": c}]}}
                   for c in ("1049502", "308048")]
    line = screen_patient("p1", {"Patient": [patient("p1")], "MedicationRequest": [by_reference],
                                 "Medication": medications}, AS_OF, evaluator)
    assert line["error"].startswith("concurrent-cns-depressant: Medication/m1")
