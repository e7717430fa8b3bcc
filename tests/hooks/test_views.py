"""CDS Hooks end to end, as an EHR calls it: discovery, hook calls, prefetch, JWT, feedback."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from jwt.algorithms import ECAlgorithm

from cds.ruleset import RuleSet
from cds import create_app
from cds.service import Evaluator

from . import SHARED_EXAMPLES

from .test_prefetch import TOKEN, FhirServer, fhir  # noqa: F401 (fhir is a fixture)

EXAMPLES = SHARED_EXAMPLES
SIGN = "/cds-services/ldn-order-sign-v1"
SELECT = "/cds-services/ldn-order-select-v1"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def medication_request(id_: str, code: str, text: str, dose: float | None = None, unit: str = "mg",
                       timing: str = "QD", status: str = "active") -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "MedicationRequest", "id": id_, "status": status, "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": code}], "text": text},
    }
    if dose is not None:
        resource["dosageInstruction"] = [{"timing": {"code": {"coding": [{"code": timing}], "text": timing}},
                                          "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit,
                                                                            "code": unit}}]}]
    return resource


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "male", "birthDate": "1970-03-04"}
LDN_DRAFT = medication_request("draft-ldn", "7243", "naltrexone (compounded LDN)", 4.5, "mg", "HS", "draft")
OXYCODONE = medication_request("rx-oxy", "7804", "oxycodone 5 mg tablet", 5, "mg", "Q6H")


def order_sign(draft: dict[str, Any] = LDN_DRAFT, prefetch: dict[str, Any] | None = None,
               **extra: Any) -> dict[str, Any]:
    return {
        "hook": "order-sign", "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/dr", "patientId": "p1", "draftOrders": bundle(draft)},
        "prefetch": prefetch if prefetch is not None else {
            "patient": PATIENT, "medicationRequests": bundle(OXYCODONE), "medicationStatements": None,
            "conditions": None, "labs": None},
        **extra,
    }


def rules_of(response: Any) -> list[str]:
    return [card["links"][0]["url"].rsplit("/", 1)[1] for card in response.get_json()["cards"]]


def test_discovery_lists_versioned_services_with_prefetch(client: FlaskClient) -> None:
    services = {s["id"]: s for s in client.get("/cds-services").get_json()["services"]}
    assert {s["hook"] for s in services.values()} == {"order-select", "order-sign", "patient-view"}
    prefetch = services["ldn-order-sign-v1"]["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert prefetch["medicationRequests"].startswith("MedicationRequest?patient={{context.patientId}}&status=active")
    assert "http://loinc.org|1742-6" in prefetch["labs"] and "http://loinc.org|98979-8" in prefetch["labs"]
    assert all(s["usageRequirements"] for s in services.values())


def test_order_sign_for_ldn_with_an_active_opioid_gives_a_critical_card(client: FlaskClient) -> None:
    response = client.post(SIGN, json=order_sign())
    assert response.status_code == 200
    [conflict] = [c for c in response.get_json()["cards"] if c["source"]["topic"]["code"] == "opioid-conflict"]
    assert conflict["indicator"] == "critical"
    assert "oxycodone" in conflict["summary"]
    assert conflict["links"][0]["url"].endswith("/v1/rules/LDN-OPI-001")


def test_a_uldn_order_in_mg_gets_a_card_that_rewrites_it_in_micrograms(client: FlaskClient) -> None:
    draft = medication_request("draft-uldn", "7243", "ULDN naltrexone", 1, "mg", "BID", "draft")
    cards = client.post(SIGN, json=order_sign(draft)).get_json()["cards"]
    [dose] = [c for c in cards if c["source"]["topic"]["code"] == "dose"]
    [action] = dose["suggestions"][0]["actions"]
    assert action["type"] == "update" and action["resource"]["id"] == "draft-uldn"
    assert action["resource"]["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"]["code"] == "ug"


def test_order_select_checks_only_the_selected_order(client: FlaskClient) -> None:
    body = order_sign()
    body["hook"] = "order-select"
    body["context"]["draftOrders"] = bundle(LDN_DRAFT, medication_request("draft-x", "6809", "metformin 500 mg",
                                                                          500, "mg", "BID", "draft"))
    body["context"]["selections"] = ["MedicationRequest/draft-x"]
    assert client.post(SELECT, json=body).get_json()["cards"] == []
    body["context"]["selections"] = ["MedicationRequest/draft-ldn"]
    assert "LDN-OPI-001" in rules_of(client.post(SELECT, json=body))


VIEW = "/cds-services/ldn-patient-view-v1"


def patient_view(*medications: dict[str, Any]) -> dict[str, Any]:
    return {"hook": "patient-view", "hookInstance": str(uuid.uuid4()),
            "context": {"userId": "Practitioner/dr", "patientId": "p1"},
            "prefetch": {"patient": PATIENT, "medicationRequests": bundle(*medications), "medicationStatements": None,
                         "conditions": None, "labs": None}}


def test_patient_view_reviews_current_ldn_against_the_medication_list(client: FlaskClient) -> None:
    ldn = medication_request("rx-ldn", "7243", "naltrexone (compounded LDN)", 4.5, "mg", "HS")
    rules = rules_of(client.post(VIEW, json=patient_view(ldn, OXYCODONE)))
    assert "LDN-OPI-001" in rules
    assert "LDN-TIT-001" not in rules  # a current prescription is not a new start


def test_patient_view_without_naltrexone_has_nothing_to_say(client: FlaskClient) -> None:
    assert client.post(VIEW, json=patient_view(OXYCODONE)).get_json()["cards"] == []


def test_patient_view_of_uldn_with_an_opioid_gives_the_taper(client: FlaskClient) -> None:
    uldn = medication_request("rx-uldn", "7243", "ULDN naltrexone", 1, "ug", "BID")
    cards = client.post(VIEW, json=patient_view(uldn, OXYCODONE)).get_json()["cards"]
    [taper] = [c for c in cards if c["source"]["topic"]["code"] == "taper"]
    assert taper["indicator"] == "info"
    assert not [c for c in cards if c["source"]["topic"]["code"] == "opioid-conflict"]
    # oxycodone 5 mg q6h = 30 MME/day; the schedule is in the card, ULDN alongside
    assert "**Taper (about 10%" in taper["detail"] and "| 0 | " in taper["detail"]
    assert "30 MME" in taper["detail"] and "naltrexone 1 µg twice daily" in taper["detail"]


def test_a_wrong_hook_or_service_is_a_clear_4xx(client: FlaskClient) -> None:
    wrong = client.post(SELECT, json=order_sign())
    assert wrong.status_code == 400 and wrong.mimetype == "application/problem+json"
    assert "hook" in wrong.get_json()["errors"]
    assert client.post("/cds-services/nope", json=order_sign()).status_code == 404
    missing = client.post(SIGN, json={"hook": "order-sign"})
    assert set(missing.get_json()["errors"]) >= {"hookInstance", "context"}


def test_missing_prefetch_without_a_fhir_server_is_412(client: FlaskClient) -> None:
    response = client.post(SIGN, json=order_sign(prefetch={}))
    assert response.status_code == 412
    assert response.mimetype == "application/problem+json"


@pytest.fixture()
def fetching(ruleset: RuleSet, fhir: FhirServer, tmp_path: Path) -> FlaskClient:
    """A site that lets the service read the loopback FHIR server (and only it)."""
    return create_app({"TESTING": True, "RULESET": ruleset, "HOOKS_AUTH": "off", "HOOKS_FHIR_SERVERS": [fhir.url],
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'feedback.sqlite3'}"}).test_client()


def test_missing_prefetch_is_read_from_the_fhir_server(fetching: FlaskClient, fhir: FhirServer) -> None:
    client = fetching
    body = order_sign(prefetch={}, fhirServer=fhir.url,
                      fhirAuthorization={"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300,
                                         "scope": "user/*.read", "subject": "ldn-cds"})
    response = client.post(SIGN, json=body)
    assert response.status_code == 200, response.get_json()
    assert "LDN-OPI-001" in rules_of(response)  # the oxycodone read from the FHIR server
    paths = [path for path, _ in fhir.requests]
    assert "/fhir/Patient/p1" in paths
    assert any(path.startswith("/fhir/MedicationRequest?patient=p1") for path in paths)


def test_a_server_not_on_the_allow_list_is_never_called(client: FlaskClient, fhir: FhirServer) -> None:
    body = order_sign(prefetch={}, fhirServer=fhir.url,
                      fhirAuthorization={"access_token": TOKEN, "token_type": "Bearer"})
    assert client.post(SIGN, json=body).status_code == 412
    assert fhir.requests == []


def test_a_failing_fhir_server_is_412(fetching: FlaskClient, fhir: FhirServer) -> None:
    client = fetching
    body = order_sign(prefetch={}, fhirServer=fhir.url,
                      fhirAuthorization={"access_token": "expired", "token_type": "Bearer"})
    assert client.post(SIGN, json=body).status_code == 412


def _example_requests() -> list[tuple[str, str]]:
    files = sorted(EXAMPLES.glob("*/request*.json")) + sorted(EXAMPLES.glob("pddi-cds/*.json"))
    return [(str(path.relative_to(EXAMPLES)), path.read_text(encoding="utf-8")) for path in files]


@pytest.mark.parametrize(("name", "text"), _example_requests(), ids=[n for n, _ in _example_requests()])
def test_every_published_example_request_gets_200_or_a_clear_4xx(client: FlaskClient, name: str, text: str) -> None:
    try:
        hook = json.loads(text).get("hook", "order-sign")
    except ValueError:
        hook = "order-sign"
    service = {"order-select": SELECT, "medication-prescribe": SELECT, "order-sign": SIGN,
               "patient-view": VIEW}.get(hook, SIGN)
    response = client.post(service, data=text, content_type="application/json")
    try:
        json.loads(text)
    except ValueError:  # published with trailing characters: refused as JSON, nothing guessed
        assert response.status_code == 400 and response.get_json()["errors"] == {"body": ["is not valid JSON"]}
        return
    assert response.status_code == 200, (name, response.get_json())
    assert isinstance(response.get_json()["cards"], list)


def test_feedback_on_an_issued_card_is_stored_and_survives_a_restart(ruleset: RuleSet, tmp_path: Path) -> None:
    config = {"TESTING": True, "RULESET": ruleset, "HOOKS_AUTH": "off",
              "DATABASE_URL": f"sqlite:///{tmp_path / 'feedback.sqlite3'}"}
    first = create_app(config).test_client()
    card = first.post(SIGN, json=order_sign()).get_json()["cards"][0]
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-23T10:00:00Z",
                              "overrideReason": {"reason": card["overrideReasons"][0], "userComment": "discussed"}}]}
    assert first.post(f"{SIGN}/feedback", json=feedback).get_json() == {"received": 1}
    assert first.post(f"{SIGN}/feedback", json=feedback).status_code == 200  # idempotent
    second = create_app(config)
    entries = second.extensions["ldn_cds_hooks"]["feedback"].feedback_for(card["uuid"])
    assert [(e.outcome, e.override_code) for e in entries] == [("overridden", card["overrideReasons"][0]["code"])]


def test_feedback_for_a_card_never_issued_is_refused(client: FlaskClient) -> None:
    body = {"feedback": [{"card": str(uuid.uuid4()), "outcome": "accepted", "outcomeTimestamp": "2026-11-23T10:00:00Z",
                          "acceptedSuggestions": [{"id": str(uuid.uuid4())}]}]}
    response = client.post(f"{SIGN}/feedback", json=body)
    assert response.status_code == 400 and response.mimetype == "application/problem+json"


# ---- JWT: a site with one trusted issuer ------------------------------------------------------

ISS = "https://ehr.example.org"


@pytest.fixture(scope="module")
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP384R1())


@pytest.fixture()
def secured(ruleset: RuleSet, key: Any, tmp_path: Path) -> Flask:
    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(kid="k1", use="sig", alg="ES384")
    issuers = [{"iss": ISS, "jwks": {"keys": [jwk]}}]
    return create_app({"TESTING": True, "RULESET": ruleset, "HOOKS_TRUSTED_ISSUERS": json.dumps(issuers),
                       "PUBLIC_BASE_URL": "https://cds.example.org",
                       "DATABASE_URL": f"sqlite:///{tmp_path / 'feedback.sqlite3'}"})


def token(key: Any, audience: str) -> str:
    now = int(time.time())
    return jwt.encode({"iss": ISS, "aud": audience, "iat": now, "exp": now + 120, "jti": str(uuid.uuid4())},
                      key, algorithm="ES384", headers={"kid": "k1", "typ": "JWT"})


def test_a_hook_call_without_a_token_is_401_with_no_detail(secured: Flask) -> None:
    response = secured.test_client().post(SIGN, json=order_sign())
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.get_json()["detail"] == "Authentication required."


def test_a_signed_es384_token_for_this_service_is_accepted_once(secured: Flask, key: Any) -> None:
    client = secured.test_client()
    signed = token(key, f"https://cds.example.org{SIGN}")
    headers = {"Authorization": f"Bearer {signed}"}
    assert client.post(SIGN, json=order_sign(), headers=headers).status_code == 200
    assert client.post(SIGN, json=order_sign(), headers=headers).status_code == 401  # jti replay


def test_a_token_for_another_service_is_refused(secured: Flask, key: Any) -> None:
    headers = {"Authorization": f"Bearer {token(key, 'https://cds.example.org' + SELECT)}"}
    assert secured.test_client().post(SIGN, json=order_sign(), headers=headers).status_code == 401


def test_an_ehr_style_client_fills_prefetch_from_discovery_and_gets_the_right_cards(
        client: FlaskClient, fhir: FhirServer) -> None:
    """The EHR reads discovery, renders each template with its context, reads its own FHIR server
    and posts order-sign with the prefetch filled in."""
    service = next(s for s in client.get("/cds-services").get_json()["services"] if s["hook"] == "order-sign")
    context = {"userId": "Practitioner/dr", "patientId": "p1", "draftOrders": bundle(LDN_DRAFT)}
    prefetch = {}
    with httpx.Client() as http:
        for key, template in service["prefetch"].items():
            url = fhir.url + "/" + template.replace("{{context.patientId}}", context["patientId"])
            prefetch[key] = http.get(url, headers={"Authorization": f"Bearer {TOKEN}"}).json()
    # The FHIR server's search is paged: the EHR sends the first page only, as it is.
    body = {"hook": "order-sign", "hookInstance": str(uuid.uuid4()), "context": context, "prefetch": prefetch}
    response = client.post(f"/cds-services/{service['id']}", json=body)
    assert response.status_code == 200
    assert fhir.requests and all(auth == f"Bearer {TOKEN}" for _, auth in fhir.requests)
    assert "LDN-OPI-001" in rules_of(response)  # the oxycodone on the EHR's own server


def test_feedback_tokens_may_name_the_service_url(secured: Flask, key: Any) -> None:
    client = secured.test_client()
    signed = token(key, f"https://cds.example.org{SIGN}")
    card = client.post(SIGN, json=order_sign(), headers={"Authorization": f"Bearer {signed}"}).get_json()["cards"][0]
    feedback = {"feedback": [{"card": card["uuid"], "outcome": "overridden", "outcomeTimestamp": "2026-11-23T10:00:00Z"}]}
    headers = {"Authorization": f"Bearer {token(key, f'https://cds.example.org{SIGN}')}"}
    assert client.post(f"{SIGN}/feedback", json=feedback, headers=headers).status_code == 200


def test_trusting_issuers_without_a_public_base_url_refuses_to_start(ruleset: RuleSet, key: Any) -> None:
    from cds.exceptions import ConfigurationError

    jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(kid="k1", use="sig", alg="ES384")
    with pytest.raises(ConfigurationError, match="PUBLIC_BASE_URL"):
        create_app({"RULESET": ruleset, "HOOKS_TRUSTED_ISSUERS": json.dumps([{"iss": ISS, "jwks": {"keys": [jwk]}}])})


@pytest.mark.parametrize("body", [
    {"prefetch": ["not", "an", "object"]},
    {"context": {"patientId": "p1", "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "x", "status": ["active"], "intent": ["order"],
        "medicationCodeableConcept": {"text": "LDN 4.5 mg qhs"}}}]}}},
    {"context": {"patientId": "p1", "draftOrders": {"resourceType": "Bundle", "entry": [{"resource": {
        "resourceType": "MedicationRequest", "id": "x", "status": "draft", "intent": "order",
        "medicationCodeableConcept": {"text": "naltrexone"},
        "dosageInstruction": [{"timing": {"repeat": {"frequency": 2, "period": 1, "periodUnit": ["d"]}},
                               "doseAndRate": [{"doseQuantity": {"value": 10 ** 400, "unit": "mg"}}]}]}}]}}},
])
def test_strange_fhir_is_a_4xx_never_a_500(client: FlaskClient, body: dict[str, Any]) -> None:
    request_body = {**order_sign(), **body}
    if "context" in body:
        request_body["context"] = {"userId": "Practitioner/dr", **body["context"]}
    text = json.dumps(request_body).replace(str(10 ** 400), "1" + "0" * 400)
    response = client.post(SIGN, data=text, content_type="application/json")
    assert response.status_code in (200, 400), response.get_json()
    if response.status_code == 400:
        assert response.mimetype == "application/problem+json"


def test_patient_entered_text_cannot_become_a_link_in_a_card(client: FlaskClient) -> None:
    evil = medication_request("rx-evil", "7804", "[see chart](javascript:alert(1)) oxycodone", 5, "mg", "Q6H")
    cards = client.post(SIGN, json=order_sign(prefetch={"patient": PATIENT, "medicationRequests": bundle(evil),
                                                         "medicationStatements": None, "conditions": None,
                                                         "labs": None})).get_json()["cards"]
    assert cards and all("[see chart](javascript" not in card["detail"] for card in cards)


def test_a_token_replayed_to_another_worker_is_refused(secured: Flask, key: Any, ruleset: RuleSet) -> None:
    # Two app instances on one database stand for two gunicorn workers.
    other = create_app({**secured.config, "RULESET": ruleset})
    headers = {"Authorization": f"Bearer {token(key, f'https://cds.example.org{SIGN}')}"}
    assert secured.test_client().post(SIGN, json=order_sign(), headers=headers).status_code == 200
    assert other.test_client().post(SIGN, json=order_sign(), headers=headers).status_code == 401


def test_patient_view_counts_one_therapy_recorded_twice_once(client: FlaskClient) -> None:
    ldn = medication_request("rx-ldn", "7243", "naltrexone (compounded LDN)", 4.5, "mg", "HS")
    statement = {"resourceType": "MedicationStatement", "id": "ms-ldn", "status": "active",
                 "subject": {"reference": "Patient/p1"},
                 "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "7243"}], "text": "LDN"},
                 "dosage": [{"timing": {"code": {"coding": [{"code": "HS"}]}},
                             "doseAndRate": [{"doseQuantity": {"value": 4.5, "unit": "mg", "code": "mg"}}]}]}
    body = patient_view(ldn, OXYCODONE)
    body["prefetch"]["medicationStatements"] = bundle(statement)
    rules = rules_of(client.post(VIEW, json=body))
    assert "LDN-DUP-005" not in rules and rules.count("LDN-OPI-001") == 1


def test_patient_view_still_sees_two_different_naltrexone_sources(client: FlaskClient) -> None:
    ldn = medication_request("rx-ldn", "7243", "naltrexone (compounded LDN)", 4.5, "mg", "HS")
    contrave = medication_request("rx-contrave", "1551468", "Contrave 8/90 mg tablet", 2, "{tablet}", "BID")
    assert "LDN-DUP-001" in rules_of(client.post(VIEW, json=patient_view(ldn, contrave)))


def test_an_ldn_start_above_the_start_dose_carries_the_titration_plan(client: FlaskClient) -> None:
    body = order_sign(prefetch={"patient": PATIENT, "medicationRequests": None, "medicationStatements": None,
                                "conditions": None, "labs": None})
    cards = client.post(SIGN, json=body).get_json()["cards"]
    [titration] = [c for c in cards if c["source"]["topic"]["code"] == "titration"]
    assert "**Titration (seed-001-4-weeks) up to 4.5 mg:**" in titration["detail"]
    assert "1 × 1.5 mg capsule at bedtime" in titration["detail"]


# ---- the opioid-safety service: CDC Recommendation 11 -------------------------------------------------
REC11 = "/cds-services/opioid-safety-rec11-patient-view-v1"


@pytest.mark.parametrize("name", sorted(p.name for p in (SHARED_EXAMPLES / "opioid-cds-r4-rec11-patient-view").glob("request-*")))
def test_rec11_service_gives_the_reference_answer_on_the_published_examples(client: FlaskClient, name: str) -> None:
    # sent as published (trailing characters dropped; resources beside prefetch are repaired by the
    # service), evaluated on the examples' date through the request extension
    text = (SHARED_EXAMPLES / "opioid-cds-r4-rec11-patient-view" / name).read_text(encoding="utf-8")
    document, _ = json.JSONDecoder().raw_decode(text)
    document["extension"] = {"ldn-cds-evaluation-time": "2023-05-01"}
    response = client.post(REC11, json=document)
    assert response.status_code == 200, response.get_json()
    cards = response.get_json()["cards"]
    if "-without-" in name:
        assert cards == []
    else:
        [rec11] = cards
        assert rec11["indicator"] == "warning"
        assert rec11["summary"].startswith("Use Particular Caution When Prescribing Opioid Pain Medication")
        assert rec11["source"]["topic"]["code"] == "concurrent-cns-depressant"
        assert "Recommendation 11" in rec11["detail"] and "rr7103a1" in rec11["detail"]


def test_rec11_service_is_discovered_with_its_own_prefetch(client: FlaskClient) -> None:
    services = {s["id"]: s for s in client.get("/cds-services").get_json()["services"]}
    rec11 = services["opioid-safety-rec11-patient-view-v1"]
    assert rec11["hook"] == "patient-view"
    assert "_include=MedicationRequest:medication" in rec11["prefetch"]["medicationRequests"]
    assert rec11["prefetch"]["encounters"] == "Encounter?patient={{context.patientId}}"


def test_a_bad_evaluation_time_extension_is_a_400_naming_it(client: FlaskClient) -> None:
    body = {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"},
            "prefetch": {"patient": {"resourceType": "Patient", "id": "p1"}},
            "extension": {"ldn-cds-evaluation-time": "yesterday"}}
    response = client.post(REC11, json=body)
    assert response.status_code == 400
    assert "extension.ldn-cds-evaluation-time" in json.dumps(response.get_json())


@pytest.mark.parametrize("prefetch", [
    {"bundle": {"resourceType": "Bundle", "entry": 3}},
    {"rx": {"resourceType": "MedicationRequest", "status": "active", "subject": {"reference": "Patient/p1"},
            "category": [{"coding": [{"system": ["x"], "code": {}}]}], "medicationCodeableConcept": {"coding": 3}}},
    {"weird": {"resourceType": ["Patient"]}},
])
def test_rec11_service_answers_malformed_fhir_without_a_500(client: FlaskClient, prefetch: dict[str, Any]) -> None:
    body = {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"}, "prefetch": prefetch}
    response = client.post(REC11, json=body)
    assert response.status_code in (200, 400), response.get_json()
    if response.status_code == 200:
        assert response.get_json()["cards"] == []


def test_an_evaluation_time_before_1900_is_refused(client: FlaskClient) -> None:
    body = {"hook": "patient-view", "hookInstance": "x", "context": {"patientId": "p1"},
            "prefetch": {"patient": {"resourceType": "Patient", "id": "p1"}},
            "extension": {"ldn-cds-evaluation-time": "0001-06-01"}}
    assert client.post(REC11, json=body).status_code == 400
