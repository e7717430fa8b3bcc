"""A patient's exported resources as the patient-view service's prefetch."""

from __future__ import annotations

from cds.screening.prefetch import patient_view_prefetch

from .conftest import alt, ldn, oxycodone, patient


def test_what_the_services_prefetch_templates_would_return() -> None:
    vitals = {**alt("p1", "o2", 1), "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]}}
    draft = {**oxycodone("p1", "draft"), "status": "draft"}
    medication = {"resourceType": "Medication", "id": "m1"}
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": "active"}
    condition = {"resourceType": "Condition", "id": "c1"}
    resources = {"Patient": [patient("p1")], "MedicationRequest": [ldn("p1"), draft, {**ldn("p1"), "status": ["x"]}],
                 "MedicationStatement": [statement], "Medication": [medication], "Condition": [condition],
                 "Observation": [alt("p1", "o1", 30), vitals], "Encounter": [{"resourceType": "Encounter"}]}
    prefetch = patient_view_prefetch(resources, {"1742-6"})
    assert prefetch["patient"] == patient("p1")
    assert prefetch["medicationRequests"] == {
        "resourceType": "Bundle", "type": "searchset", "total": 1,
        "entry": [{"resource": ldn("p1"), "search": {"mode": "match"}},  # status=active,on-hold,completed,stopped
                  {"resource": medication, "search": {"mode": "include"}}]}
    assert [e["resource"] for e in prefetch["medicationStatements"]["entry"]] == [statement]
    assert [e["resource"] for e in prefetch["conditions"]["entry"]] == [condition]
    assert [e["resource"]["id"] for e in prefetch["labs"]["entry"]] == ["o1"]  # code=<the LOINC codes the rules use>


def test_a_patient_known_only_by_references_has_no_patient_resource() -> None:
    prefetch = patient_view_prefetch({"MedicationRequest": [ldn("p1")]}, set())
    assert prefetch["patient"] is None and prefetch["labs"]["entry"] == []
