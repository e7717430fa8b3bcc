"""Which patient a line belongs to, and why a line cannot be screened."""

from __future__ import annotations

from typing import Any

import pytest

from cds.screening.references import IGNORED, Route, Unroutable, bundle_patient, medication_reference, route

from .conftest import ldn, patient


@pytest.mark.parametrize(("resource", "expected"), [
    (patient("p-1.a"), Route("patient", "p-1.a")),
    (ldn("p1"), Route("patient", "p1")),
    ({"resourceType": "Condition", "subject": {"reference": "https://ehr.example.org/fhir/Patient/p2"}},
     Route("patient", "p2")),
    ({"resourceType": "Observation", "subject": {"reference": "Patient/p3/_history/4"}}, Route("patient", "p3")),
    ({"resourceType": "AllergyIntolerance", "patient": {"reference": "Patient/p4"}}, Route("patient", "p4")),
    ({"resourceType": "Medication", "id": "m1"}, Route("medication", "m1")),
    ({"resourceType": "Bundle", "entry": [{"resource": patient("p5")}]}, Route("patient", "p5")),
    ({"resourceType": "Practitioner", "id": "dr"}, IGNORED),
])
def test_a_resource_goes_to_its_patient(resource: dict[str, Any], expected: Route) -> None:
    assert route(resource) == expected


@pytest.mark.parametrize(("resource", "reason"), [
    ([1, 2], "not a JSON object"),
    ("text", "not a JSON object"),
    ({"id": "x"}, "no resourceType"),
    ({"resourceType": ""}, "no resourceType"),
    ({"resourceType": "Patient"}, "Patient has no valid id"),
    ({"resourceType": "Patient", "id": "has space"}, "Patient has no valid id"),
    ({"resourceType": "Observation", "subject": {"reference": "Group/g1"}}, "Observation has no patient reference"),
    ({"resourceType": "Condition", "subject": {"reference": "Patient/a/b"}}, "Condition has no patient reference"),
    ({"resourceType": "MedicationRequest"}, "MedicationRequest has no patient reference"),
    ({"resourceType": "Medication"}, "Medication has no valid id"),
    ({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Organization"}}]}, "Bundle names no patient"),
])
def test_a_line_that_names_no_patient_says_why(resource: Any, reason: str) -> None:
    with pytest.raises(Unroutable, match=reason):
        route(resource)


def test_a_bundle_without_a_patient_entry_goes_to_the_patient_its_resources_reference() -> None:
    assert bundle_patient({"resourceType": "Bundle", "entry": [{"resource": ldn("p9")}, "junk", {"resource": 3}]}) == "p9"


@pytest.mark.parametrize(("resource", "expected"), [
    ({"medicationReference": {"reference": "Medication/m1"}}, "m1"),
    ({"medicationReference": {"reference": "https://ehr/fhir/Medication/m2/_history/1"}}, "m2"),
    ({"medication": {"reference": {"reference": "Medication/m3"}}}, "m3"),  # R5 CodeableReference
    ({"medicationReference": {"reference": "#contained"}}, None),  # travels inside the resource
    ({"medicationCodeableConcept": {"text": "LDN"}}, None),
])
def test_the_medication_an_order_references(resource: dict[str, Any], expected: str | None) -> None:
    assert medication_reference(resource) == expected
