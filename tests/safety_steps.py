"""Gherkin steps for features/opioid-safety.feature (CDC Recommendation 11).

Given steps build one patient's FHIR R4 resources; the When step sends them as the prefetch of a
patient-view request to the opioid-safety CDS service (the Flask test client; the real rules and
engine), evaluated on the scenario's day through the request's evaluation-time extension. The
alerts are read back from the cards for the shared Then steps of tests/bdd_steps.py.

Imported by tests/test_features.py with `from safety_steps import *`.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from pytest_bdd import given, parsers, when

from bdd_steps import Evaluation

_SERVICE = "/cds-services/opioid-safety-rec11-patient-view-v1"
_SYSTEMS = {"ICD-10-CM": "http://hl7.org/fhir/sid/icd-10-cm", "SNOMED CT": "http://snomed.info/sct"}
_CATEGORIES = {"problem-list": "problem-list-item", "encounter-diagnosis": "encounter-diagnosis"}
_PATIENT = "Patient/p1"


@pytest.fixture()
def safety_chart() -> dict[str, Any]:
    """The scenario's chart: the day it is opened, the Patient, and the other resources."""
    return {"day": None, "patient": {"resourceType": "Patient", "id": "p1"}, "resources": []}


@given(parsers.re(r"the chart is opened on (?P<day>\d{4}-\d{2}-\d{2})"))
def chart_day(safety_chart: dict[str, Any], day: str) -> None:
    safety_chart["day"] = day


@given(parsers.re(r"the patient was born on (?P<day>\d{4}-\d{2}-\d{2})"))
def born_on(safety_chart: dict[str, Any], day: str) -> None:
    safety_chart["patient"]["birthDate"] = day


@given(parsers.re(r"the patient's birth date is not recorded"))
def birth_not_recorded(safety_chart: dict[str, Any]) -> None:
    safety_chart["patient"].pop("birthDate", None)


@given(parsers.re(r"an? (?P<status>active|completed|stopped|cancelled) (?P<category>community|outpatient|inpatient|discharge) "
                  r"prescription for RxNorm (?P<code>\d+) \((?P<name>[^)]*(?:\([^)]*\))?[^)]*)\) "
                  r"written on (?P<day>\d{4}-\d{2}-\d{2})"))
def prescription(safety_chart: dict[str, Any], status: str, category: str, code: str, name: str, day: str) -> None:
    index = len(safety_chart["resources"])
    safety_chart["resources"].append({
        "resourceType": "MedicationRequest", "id": f"rx-{index}", "status": status, "intent": "order",
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                                  "code": category}]}],
        "medicationCodeableConcept": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm",
                                                  "code": code}], "text": name},
        "subject": {"reference": _PATIENT}, "authoredOn": day})


@given(parsers.re(r"an? (?P<category>problem-list|encounter-diagnosis|uncategorized) condition (?P<system>ICD-10-CM|SNOMED CT) "
                  r"(?P<code>\S+) \((?P<name>[^)]+)\) that is (?P<status>active|inactive|resolved|remission)"))
def condition(safety_chart: dict[str, Any], category: str, system: str, code: str, name: str, status: str) -> None:
    resource: dict[str, Any] = {
        "resourceType": "Condition", "id": f"c-{len(safety_chart['resources'])}", "subject": {"reference": _PATIENT},
        "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                       "code": status}]},
        "code": {"coding": [{"system": _SYSTEMS[system], "code": code}], "text": name}}
    if category in _CATEGORIES:
        resource["category"] = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                                             "code": _CATEGORIES[category]}]}]
    safety_chart["resources"].append(resource)


@given(parsers.re(r"an? (?P<status>[a-z-]+) encounter on (?P<day>\d{4}-\d{2}-\d{2}) discharged to hospice"))
def hospice_encounter(safety_chart: dict[str, Any], status: str, day: str) -> None:
    safety_chart["resources"].append({
        "resourceType": "Encounter", "id": f"e-{len(safety_chart['resources'])}", "status": status,
        "subject": {"reference": _PATIENT}, "period": {"start": day},
        "hospitalization": {"dischargeDisposition": {"coding": [{"system": "http://snomed.info/sct",
                                                                 "code": "385763009"}]}}})


@when(parsers.re(r"the EHR opens the chart for the opioid safety check"), target_fixture="evaluation")
def open_chart(client: FlaskClient, safety_chart: dict[str, Any]) -> Evaluation:
    assert safety_chart["day"], 'the chart needs "Given the chart is opened on YYYY-MM-DD" first'
    bundle = {"resourceType": "Bundle", "type": "searchset",
              "entry": [{"resource": resource} for resource in safety_chart["resources"]]}
    body = {"hook": "patient-view", "hookInstance": "bdd-rec11", "context": {"userId": "Practitioner/1",
                                                                              "patientId": "p1"},
            "prefetch": {"patient": safety_chart["patient"], "everything": bundle},
            "extension": {"ldn-cds-evaluation-time": safety_chart["day"]}}
    response = client.post(_SERVICE, json=body)
    assert response.status_code == 200, f"answered {response.status_code}: {response.get_json()}"
    cards = response.get_json()["cards"]
    alerts = [{"rule": card["links"][0]["url"].rsplit("/", 1)[1], "severity": card["indicator"],
               "category": card["source"]["topic"]["code"], "summary": card["summary"], "detail": card["detail"]}
              for card in cards]
    return Evaluation({"alerts": alerts, "cards": cards})
