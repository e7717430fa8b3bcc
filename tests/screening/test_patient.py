"""One patient → one output line: every check in CHECKS, the LDN review first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from cds.schemas import EVALUATE_REQUEST
from cds.screening.context import CheckContext
from cds.screening.ldn_review import ldn_review
from cds.screening.patient import CHECKS, Check, screen_patient
from cds.screening.prefetch import Resources
from cds.service import Evaluator

from .conftest import AS_OF, ldn, oxycodone, patient

LDN_AND_OXYCODONE = {"Patient": [patient("p1")], "MedicationRequest": [ldn("p1"), oxycodone("p1")]}


def test_the_ldn_review_is_the_first_check() -> None:
    assert CHECKS[0] == Check("ldn-review", ldn_review)


def test_a_patient_line_names_the_patient_and_its_alerts(evaluator: Evaluator) -> None:
    line = screen_patient("p1", LDN_AND_OXYCODONE, AS_OF, evaluator)
    assert set(line) == {"patient", "alerts"} and line["patient"] == "p1"
    assert line["alerts"][0]["rule"] == "LDN-OPI-001"


def test_a_patient_without_alerts_still_gets_a_line(evaluator: Evaluator) -> None:
    assert screen_patient("p2", {"Condition": [{"resourceType": "Condition"}]}, AS_OF, evaluator) == \
        {"patient": "p2", "alerts": []}


def test_as_of_without_a_zone_is_utc(evaluator: Evaluator) -> None:
    naive = AS_OF.replace(tzinfo=None)
    assert screen_patient("p1", LDN_AND_OXYCODONE, naive, evaluator) == \
        screen_patient("p1", LDN_AND_OXYCODONE, AS_OF, evaluator)


def test_fhir_that_cannot_be_read_is_an_error_naming_the_check_and_the_reason(evaluator: Evaluator) -> None:
    resources = {"Patient": [patient("p1")], "MedicationRequest": [{**ldn("p1"), "intent": ["order"]}]}
    line = screen_patient("p1", resources, AS_OF, evaluator)
    assert line == {"patient": "p1", "alerts": [],
                    "error": "ldn-review: FHIR data of an unexpected shape (TypeError); check it against FHIR R4"}


def test_a_request_the_schema_refuses_is_an_error_naming_the_field(evaluator: Evaluator) -> None:
    def loads_a_bad_request(resources: Resources, as_of: datetime, context: CheckContext) -> list[dict[str, Any]]:
        EVALUATE_REQUEST.load({"medications": [{"text": "LDN", "dose": {"value": -1, "unit": "mg"}}]})
        return []

    line = screen_patient("p1", LDN_AND_OXYCODONE, AS_OF, evaluator, checks=(Check("strict", loads_a_bad_request),))
    assert line == {"patient": "p1", "alerts": [],
                    "error": "strict: medications[0].dose.value: Must be greater than 0."}


def test_adding_a_check_is_one_more_entry_and_a_failing_check_does_not_stop_the_others(evaluator: Evaluator) -> None:
    seen: list[str] = []

    def reads_the_same_chart(resources: Resources, as_of: datetime, context: CheckContext) -> list[dict[str, Any]]:
        seen.append(context.chart.request["medications"][0]["text"])
        return [{"rule": "CDC-11", "ruleVersion": "1.0.0", "category": "concurrent-cns-depressant",
                 "severity": "warning", "summary": "opioid with a benzodiazepine"}]

    def broken(resources: Resources, as_of: datetime, context: CheckContext) -> list[dict[str, Any]]:
        raise KeyError("a defect")

    line = screen_patient("p1", LDN_AND_OXYCODONE, AS_OF, evaluator,
                          checks=(*CHECKS, Check("broken", broken), Check("cns", reads_the_same_chart)))
    assert [a["rule"] for a in line["alerts"]][-1] == "CDC-11"
    assert line["alerts"][0]["rule"] == "LDN-OPI-001"
    assert line["error"] == "broken: internal error (KeyError); see the log"
    assert seen == ["naltrexone 4.5 mg capsule (compounded LDN)"]
