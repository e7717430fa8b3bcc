"""The LDN review gives, for each chart, the alerts the patient-view CDS Hooks service gives."""

from __future__ import annotations

import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import orjson
import pytest
from flask.testing import FlaskClient

from cds.review import evaluate_checks, therapy_reviews
from cds.screening.context import CheckContext
from cds.screening.ldn_review import alert_line, ldn_review
from cds.screening.references import route
from cds.service import Evaluator

from .conftest import AS_OF, ldn, order, oxycodone, patient

VIEW = "/cds-services/ldn-patient-view-v1"


def charts(export: Path) -> dict[str, dict[str, list[Any]]]:
    found: dict[str, dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    medications = {}
    for path in sorted(export.glob("*.ndjson")):
        for line in path.read_bytes().splitlines():
            resource = orjson.loads(line)
            where = route(resource)
            if where.kind == "patient":
                found[where.key][resource["resourceType"]].append(resource)
            else:
                medications[where.key] = resource
    for resources in found.values():  # the Medications its orders name, as an _include would bring
        for request in resources.get("MedicationRequest", ()):
            name = request.get("medicationReference", {}).get("reference", "").removeprefix("Medication/")
            if name in medications:
                resources["Medication"].append(medications[name])
    return found


def hook_call(pid: str, resources: dict[str, list[Any]]) -> dict[str, Any]:
    def bundle(*kinds: str) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "searchset",
                "entry": [{"resource": r} for kind in kinds for r in resources.get(kind, ())]}
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/pharmacist", "patientId": pid},
            "extension": {"ldn-cds-evaluation-time": AS_OF.isoformat()},
            "prefetch": {"patient": (resources.get("Patient") or [None])[0],
                         "medicationRequests": bundle("MedicationRequest", "Medication"),
                         "medicationStatements": bundle("MedicationStatement"), "conditions": bundle("Condition"),
                         "labs": bundle("Observation")}}


def test_the_same_alerts_as_the_patient_view_service_for_every_chart_of_a_panel(
        synthetic_export: Path, client: FlaskClient, evaluator: Evaluator) -> None:
    compared = with_alerts = 0
    for pid, resources in sorted(charts(synthetic_export).items())[:120]:
        screened = ldn_review(resources, AS_OF, CheckContext(pid, resources, AS_OF, evaluator))
        response = client.post(VIEW, json=hook_call(pid, resources))
        assert response.status_code == 200, response.get_json()
        cards = response.get_json()["cards"]
        assert [(card["links"][0]["url"].rsplit("/", 1)[1], card["source"]["topic"]["code"], card["summary"])
                for card in cards] == \
            [(alert["rule"], alert["category"], alert["summary"] if len(alert["summary"]) < 140
              else alert["summary"][:138] + "…") for alert in screened], pid
        compared += 1
        with_alerts += bool(screened)
    assert compared == 120 and with_alerts >= 8  # the panel has LDN patients to review


def test_a_current_ldn_prescription_with_an_active_opioid_is_a_critical_conflict(evaluator: Evaluator) -> None:
    resources = {"Patient": [patient("p1")], "MedicationRequest": [ldn("p1"), oxycodone("p1")]}
    alerts = ldn_review(resources, AS_OF, CheckContext("p1", resources, AS_OF, evaluator))
    conflict = next(a for a in alerts if a["rule"] == "LDN-OPI-001")
    assert conflict == {"rule": "LDN-OPI-001", "ruleVersion": conflict["ruleVersion"], "category": "opioid-conflict",
                        "severity": "critical", "summary": conflict["summary"]}
    assert "oxycodone" in conflict["summary"]
    assert "LDN-TIT-001" not in {a["rule"] for a in alerts}  # a current prescription is not a new start


def test_no_naltrexone_nothing_to_review(evaluator: Evaluator) -> None:
    resources = {"Patient": [patient("p1")], "MedicationRequest": [oxycodone("p1")]}
    assert ldn_review(resources, AS_OF, CheckContext("p1", resources, AS_OF, evaluator)) == []


def test_an_alert_line_is_the_compact_part_of_the_api_alert(evaluator: Evaluator) -> None:
    resources = {"Patient": [patient("p1")], "MedicationRequest": [ldn("p1"), oxycodone("p1")]}
    context = CheckContext("p1", resources, AS_OF, evaluator)
    [(_, alert), *_] = evaluate_checks(evaluator, context.chart.request,
                                       therapy_reviews(context.chart.request, evaluator, AS_OF), AS_OF)
    full = alert.to_dict()
    assert alert_line(alert) == {key: full[key] for key in ("rule", "ruleVersion", "category", "severity", "summary")}


@pytest.mark.parametrize("medication", [
    order("p1", "n1", "7243", "naltrexone", 4.5, "mg", "HS"),
    order("p1", "n2", None, "LDN 3 mg compounded capsule", 3, "mg", "HS"),
    order("p1", "n3", None, "ULDN naltrexone 1 mcg", 1, "ug", "BID"),
    order("p1", "n4", None, "Vivitrol 380 mg IM monthly"),
    order("p1", "n5", None, "Contrave 8/90 mg 1 tab bid"),
    order("p1", "n6", "7243", "naltrexone 50 mg tablet", 50, "mg", "QD", status="stopped"),
    order("p1", "n7", None, "oxycodone 5 mg q6h"),
    order("p1", "n8", None, "an unheard-of remedy"),
])
def test_the_quick_look_for_naltrexone_never_changes_the_answer(evaluator: Evaluator, medication: dict) -> None:
    resources = {"Patient": [patient("p1")], "MedicationRequest": [medication, oxycodone("p1")]}
    context = CheckContext("p1", resources, AS_OF, evaluator)
    known = context.chart.request
    full = [alert_line(alert) for _, alert in evaluate_checks(evaluator, known, therapy_reviews(known, evaluator, AS_OF),
                                                              AS_OF)]
    assert ldn_review(resources, AS_OF, context) == full
