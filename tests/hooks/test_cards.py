"""Cards from real alerts, checked against the CDS Hooks 2.0 card invariants."""

from __future__ import annotations

from typing import Any

from cds.hooks.cards import CATEGORY_SYSTEM, CardContext, card, override_reasons
from cds.rulebook import CATEGORIES
from cds.schemas import EVALUATE_REQUEST
from cds.service import Evaluator

BASE = "https://cds.example.org"
LDN_ORDER = {"resourceType": "MedicationRequest", "id": "mr-ldn", "status": "draft", "intent": "order",
             "dosageInstruction": [{"timing": {"code": {"text": "BID"}},
                                    "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "mg", "code": "mg"}}]}]}


def cards_for(evaluator: Evaluator, resource: Any = None, **request: Any) -> list[dict[str, Any]]:
    """Cards for `request`, as if its order came as the draft MedicationRequest `resource`."""
    body = EVALUATE_REQUEST.load({"evaluationTime": "2026-11-23T09:00:00Z", **request})
    context = CardContext(BASE, "p1", resource, f"MedicationRequest/{resource['id']}" if resource else None)
    return [card(alert, context) for alert in evaluator.evaluate(body).alerts]


def assert_conformant(made: dict[str, Any]) -> None:
    assert made["uuid"] and len(made["summary"]) < 140
    assert made["indicator"] in ("info", "warning", "critical")
    assert made["source"]["label"]
    assert made["source"]["topic"]["system"] == CATEGORY_SYSTEM
    assert made["source"]["topic"]["code"] in CATEGORIES
    assert all(reason["display"] and reason["code"] and reason["system"] for reason in made["overrideReasons"])
    rule_link, *source_links = made["links"]
    assert rule_link["type"] == "absolute" and rule_link["url"].startswith(BASE)
    assert all(link["type"] == "absolute" and link["url"].startswith("http") and link["label"]
               for link in source_links)  # the rule's sources that have a web address
    if "suggestions" in made:
        assert made["selectionBehavior"] in ("at-most-one", "any")
        for suggestion in made["suggestions"]:
            assert suggestion["label"] and suggestion["uuid"]
            for action in suggestion["actions"]:
                assert action["type"] in ("create", "update", "delete") and action["description"]
                assert ("resourceId" in action) if action["type"] == "delete" else ("resource" in action)
    else:
        assert "selectionBehavior" not in made


def test_every_card_of_a_busy_patient_is_conformant(evaluator: Evaluator) -> None:
    cards = cards_for(evaluator, LDN_ORDER,
                      patient={"age": 30, "sex": "female"}, order={"text": "ULDN 1 mg bid"},
                      medications=[{"text": "oxycodone 5 mg q6h"}, {"text": "Contrave 8/90 1 tab daily"},
                                   {"text": "Zorblax 1 mg daily"}],
                      conditions=[{"code": "K74.60"}, {"code": "N18.5"}])
    assert len(cards) >= 5
    for made in cards:
        assert_conformant(made)


def test_a_card_says_what_matched_why_what_to_do_and_its_sources(evaluator: Evaluator) -> None:
    [made] = cards_for(evaluator, None, patient={"age": 60, "sex": "male"}, order={"text": "LDN 1.5 mg qhs"},
                       medications=[{"text": "oxycodone 5 mg q6h"}])
    assert made["indicator"] == "critical" and made["source"]["topic"]["code"] == "opioid-conflict"
    detail = made["detail"]
    for heading in ("**Why:**", "**What matched:**", "**What to do:**", "**Sources:**"):
        assert heading in detail
    assert "oxycodone 5 mg q6h (oxycodone" in detail
    assert made["links"][0]["url"] == f"{BASE}/v1/rules/LDN-OPI-001"


def test_a_duplicate_naltrexone_order_can_be_cancelled(evaluator: Evaluator) -> None:
    cards = cards_for(evaluator, {**LDN_ORDER, "id": "mr-contrave"}, order={"text": "Contrave 8/90 1 tab daily"},
                      medications=[{"text": "LDN 3 mg qhs"}])
    [duplicate] = [c for c in cards if c["source"]["topic"]["code"] == "duplicate-antagonist"]
    [action] = duplicate["suggestions"][0]["actions"]
    assert action == {"type": "delete", "description": "Cancel this naltrexone order",
                      "resourceId": "MedicationRequest/mr-contrave"}


def test_standard_dose_without_liver_tests_suggests_ordering_them(evaluator: Evaluator) -> None:
    cards = cards_for(evaluator, LDN_ORDER, patient={"age": 40, "sex": "male"},
                      order={"text": "naltrexone 50 mg daily", "purpose": "standard"})
    [hepatic] = [c for c in cards if c["source"]["topic"]["code"] == "hepatic"]
    [action] = hepatic["suggestions"][0]["actions"]
    assert action["type"] == "create"
    assert action["resource"]["resourceType"] == "ServiceRequest"
    assert action["resource"]["code"]["coding"][0]["code"] == "24325-3"
    assert action["resource"]["subject"] == {"reference": "Patient/p1"}


def test_a_uldn_order_written_in_mg_is_rewritten_in_micrograms(evaluator: Evaluator) -> None:
    cards = cards_for(evaluator, LDN_ORDER, patient={"age": 40, "sex": "male"}, order={"text": "ULDN 1 mg bid"})
    [dose] = [c for c in cards if c["source"]["topic"]["code"] == "dose"]
    [action] = dose["suggestions"][0]["actions"]
    assert action["type"] == "update"
    quantity = action["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]
    assert (quantity["value"], quantity["code"]) == (1, "ug")
    assert LDN_ORDER["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "mg"  # not mutated


def test_without_a_structured_dose_the_unit_advice_has_no_action(evaluator: Evaluator) -> None:
    cards = cards_for(evaluator, None, patient={"age": 40, "sex": "male"}, order={"text": "ULDN 1 mg bid"})
    [dose] = [c for c in cards if c["source"]["topic"]["code"] == "dose"]
    assert "suggestions" not in dose and "Rewrite the order" in dose["detail"]


def test_override_reasons_are_hl7_non_adherence_codes() -> None:
    codes = {reason["code"] for reason in override_reasons()}
    assert {"cds-not-applicable", "recipient-disagrees-evidence"} <= codes
    assert {reason["system"] for reason in override_reasons()} == {
        "http://terminology.hl7.org/CodeSystem/non-adherence-reason-codes"}

