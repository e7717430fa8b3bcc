"""Behaviour of the HTTP API, through the Flask test client: what an EHR integrator relies on."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from cds import MAX_BODY_BYTES, __version__

ROOT = Path(__file__).resolve().parent.parent
PROBLEM_JSON = "application/problem+json"
SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}

LDN_WITH_OXYCODONE = {
    "evaluationTime": "2025-03-03T14:30:00Z",
    "patient": {"age": 54, "sex": "female", "pregnancy": {"status": "not-pregnant"}},
    "order": {"text": "Naltrexone 4.5 mg capsule, take 1 at bedtime", "purpose": "ldn"},
    "medications": [{"text": "oxycodone 5 mg tablet, 1 every 6 hours as needed"}],
}


def evaluate(client: FlaskClient, body: Any, **kwargs: Any) -> TestResponse:
    return client.post("/v1/evaluate", json=body, **kwargs)


def problem(response: TestResponse, status: int) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status; return its body."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = json.loads(response.get_data(as_text=True))
    assert body["type"] == "about:blank"
    assert body["status"] == status
    assert body["title"] and body["detail"]
    assert body["requestId"] == response.headers["X-Request-ID"]
    return body


def alert(body: dict[str, Any], rule: str) -> dict[str, Any]:
    found = [a for a in body["alerts"] if a["rule"] == rule]
    assert len(found) == 1, [a["rule"] for a in body["alerts"]]
    return found[0]


def rule_ids_in_rule_files() -> set[str]:
    ids: set[str] = set()
    for path in [*(ROOT / "rules").glob("*.yaml"), *(ROOT / "rules" / "opioid-safety").glob("*.yaml")]:
        ids.update(rule["id"] for rule in yaml.safe_load(path.read_text(encoding="utf-8"))["rules"])
    return ids


# ---- evaluation ----------------------------------------------------------------------------

def test_ldn_with_oxycodone_is_a_critical_opioid_conflict_naming_the_opioid(client: FlaskClient) -> None:
    response = evaluate(client, LDN_WITH_OXYCODONE)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    conflict = alert(body, "LDN-OPI-001")
    assert body["alerts"][0] is not None and body["alerts"][0]["rule"] == "LDN-OPI-001"  # most severe first
    assert conflict["severity"] == "critical"
    assert conflict["category"] == "opioid-conflict"
    assert re.fullmatch(r"\d+\.\d+\.\d+", conflict["ruleVersion"])
    assert 0 < len(conflict["summary"]) <= 140
    [medication] = [fact for fact in conflict["matched"] if fact["as"] == "medication"]
    assert medication["ingredient"] == "oxycodone"
    assert medication["class"] == "opioid-agonist"
    assert medication["name"] == "oxycodone 5 mg tablet, 1 every 6 hours as needed"  # as written
    [order] = [fact for fact in conflict["matched"] if fact["as"] == "order"]
    assert order["class"] == "naltrexone" and order["daily_dose_mg"] == 4.5
    assert "oxycodone" in conflict["detail"]
    assert {source["id"] for source in conflict["sources"]} >= {"label-naltrexone"}
    assert conflict["suggestions"] and all(s["label"] for s in conflict["suggestions"])
    understood = body["understood"]["medications"][0]
    assert understood["source"] == "medications[0]"
    assert understood["classes"] == ["opioid-agonist"]
    assert body["evaluationTime"] == "2025-03-03T14:30:00+00:00"


def test_two_opioids_give_one_alert_naming_both(client: FlaskClient) -> None:
    body = {**LDN_WITH_OXYCODONE, "medications": [{"text": "oxycodone 5 mg q6h prn"},
                                                 {"text": "morphine ER 15 mg twice daily"}]}
    conflict = alert(evaluate(client, body).get_json(), "LDN-OPI-001")
    opioids = {fact["ingredient"] for fact in conflict["matched"] if fact["as"] == "medication"}
    assert opioids == {"oxycodone", "morphine"}


def test_ultra_low_dose_with_an_opioid_is_not_an_opioid_conflict(client: FlaskClient) -> None:
    body = {**LDN_WITH_OXYCODONE, "order": {"text": "naltrexone 1 mcg twice daily", "purpose": "uldn"}}
    response = evaluate(client, body)
    assert response.status_code == 200
    assert "LDN-OPI-001" not in {a["rule"] for a in response.get_json()["alerts"]}


def test_alerts_come_most_severe_first_then_by_rule_id(client: FlaskClient) -> None:
    body = {**LDN_WITH_OXYCODONE, "patient": {"age": 30, "sex": "female"},
            "medications": [{"text": "oxycodone 5 mg q6h prn"}, {"text": "Narcan kit"}, {"text": "frobnicate 5 mg"}]}
    alerts = evaluate(client, body).get_json()["alerts"]
    assert len(alerts) >= 3
    keys = [(SEVERITY_ORDER[a["severity"]], a["rule"]) for a in alerts]
    assert keys == sorted(keys)


def test_an_empty_request_is_valid_and_has_nothing_to_say(client: FlaskClient) -> None:
    response = evaluate(client, {})
    assert response.status_code == 200
    body = response.get_json()
    assert body["alerts"] == []
    assert body["understood"]["order"] is None
    assert body["understood"]["medications"] == []


def test_the_same_request_gets_the_same_answer(client: FlaskClient) -> None:
    first = evaluate(client, LDN_WITH_OXYCODONE).get_json()
    second = evaluate(client, LDN_WITH_OXYCODONE).get_json()
    assert first == second


@pytest.mark.parametrize(("sent", "evaluated"), [
    ("2025-03-01", "2025-03-01T00:00:00+00:00"),  # a date is its midnight, UTC
    ("2025-03-01T09:30:00", "2025-03-01T09:30:00+00:00"),  # no zone means UTC
    ("2025-03-01T09:30:00Z", "2025-03-01T09:30:00+00:00"),
    ("2025-03-01T09:30:00-05:00", "2025-03-01T09:30:00-05:00"),  # an offset is kept
])
def test_evaluation_time_is_read_as_documented(client: FlaskClient, sent: str, evaluated: str) -> None:
    assert evaluate(client, {"evaluationTime": sent}).get_json()["evaluationTime"] == evaluated


def test_another_json_media_type_is_read_as_json(client: FlaskClient) -> None:
    response = client.post("/v1/evaluate", data=json.dumps(LDN_WITH_OXYCODONE),
                           content_type="application/fhir+json; charset=utf-8")
    assert response.status_code == 200
    assert alert(response.get_json(), "LDN-OPI-001")


# ---- the rule catalogue and health ---------------------------------------------------------

def test_rules_lists_every_rule_with_its_sources(client: FlaskClient) -> None:
    response = client.get("/v1/rules")
    assert response.status_code == 200 and response.mimetype == "application/json"
    rules = response.get_json()["rules"]
    ids = [rule["id"] for rule in rules]
    assert len(ids) == len(set(ids))
    assert set(ids) == rule_ids_in_rule_files()
    known_sources = yaml.safe_load((ROOT / "rules/reference/sources.yaml").read_text(encoding="utf-8"))["sources"]
    for rule in rules:
        assert rule["sources"], rule["id"]
        for source in rule["sources"]:
            assert source["id"] in known_sources, (rule["id"], source["id"])
            assert source["kind"] == known_sources[source["id"]]["kind"]
            assert source["label"] == known_sources[source["id"]]["label"]
        assert rule["conditions"] and rule["summary"] and rule["detail"] and rule["rationale"]
        assert (ROOT / rule["file"]).is_file()
        for name, parameter in rule["parameters"].items():
            assert isinstance(parameter["value"], (int, float)) and parameter["unit"] and parameter["why"], name


def test_one_rule_by_id(client: FlaskClient) -> None:
    response = client.get("/v1/rules/LDN-OPI-001")
    assert response.status_code == 200
    rule = response.get_json()
    assert rule["id"] == "LDN-OPI-001"
    assert rule["severity"] == "critical"
    assert rule["category"] == "opioid-conflict"
    assert rule["file"] == "rules/opioid-conflict.yaml"
    assert "label-naltrexone" in {source["id"] for source in rule["sources"]}
    assert any("naltrexone" in condition for condition in rule["conditions"])
    listed = {r["id"]: r for r in client.get("/v1/rules").get_json()["rules"]}
    assert rule == listed["LDN-OPI-001"]


def test_an_unknown_rule_id_is_a_404_problem_naming_it(client: FlaskClient) -> None:
    body = problem(client.get("/v1/rules/LDN-NOPE-999"), 404)
    assert "LDN-NOPE-999" in body["detail"]
    assert "errors" not in body


def test_the_opioid_safety_rule_has_its_page_and_file(client: FlaskClient) -> None:
    rule = client.get("/v1/rules/CDC-REC11-001").get_json()
    assert rule["category"] == "concurrent-cns-depressant" and rule["file"] == "rules/opioid-safety/rec11.yaml"
    page = client.get("/v1/rules/CDC-REC11-001", headers={"Accept": "text/html"})
    assert page.status_code == 200 and b"Recommendation 11" in page.data


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.get_json() == {"status": "ok", "version": __version__,
                                   "rules": len(rule_ids_in_rule_files())}


# ---- request ids ---------------------------------------------------------------------------

@pytest.mark.parametrize("request_id", ["ehr-7f3c2a91", "A.b_c-1", "x" * 64])
def test_a_well_formed_request_id_is_echoed(client: FlaskClient, request_id: str) -> None:
    ok = evaluate(client, LDN_WITH_OXYCODONE, headers={"X-Request-ID": request_id})
    assert ok.headers["X-Request-ID"] == request_id
    failed = client.post("/v1/evaluate", json=[], headers={"X-Request-ID": request_id})
    assert problem(failed, 400)["requestId"] == request_id
    assert client.get("/healthz", headers={"X-Request-ID": request_id}).headers["X-Request-ID"] == request_id


@pytest.mark.parametrize("request_id", ["has spaces", "x" * 65, "semi;colon", "<script>", ""])
def test_a_bad_request_id_is_replaced(client: FlaskClient, request_id: str) -> None:
    response = client.post("/v1/evaluate", json=[], headers={"X-Request-ID": request_id})
    replaced = response.headers["X-Request-ID"]
    assert replaced != request_id
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)
    assert problem(response, 400)["requestId"] == replaced


def test_requests_without_an_id_get_distinct_ones(client: FlaskClient) -> None:
    ids = {client.get("/healthz").headers["X-Request-ID"] for _ in range(3)}
    assert len(ids) == 3


# ---- invalid input: problem+json naming the field ------------------------------------------

FIELD_ERRORS = {
    "dose of zero": ({"medications": [{"text": "LDN", "dose": {"value": 0, "unit": "mg"}}]},
                     "medications[0].dose.value", "greater than 0"),
    "dose without unit": ({"medications": [{"text": "a"}, {"text": "LDN", "dose": {"value": 4.5}}]},
                          "medications[1].dose.unit", "Missing data"),
    "dose as text": ({"order": {"text": "LDN", "dose": {"value": "four", "unit": "mg"}}},
                     "order.dose.value", "Not a valid number"),
    "age over 130": ({"patient": {"age": 131}}, "patient.age", "130"),
    "age as text": ({"patient": {"age": "54"}}, "patient.age", "integer"),
    "age and birth date": ({"patient": {"age": 54, "birthDate": "1971-01-01"}}, "patient.age", "not both"),
    "sex not in the list": ({"patient": {"sex": "F"}}, "patient.sex", "one of"),
    "pregnancy without status": ({"patient": {"pregnancy": {"evidence": "hCG"}}}, "patient.pregnancy.status",
                                 "Missing data"),
    "purpose not in the list": ({"order": {"text": "LDN 4.5 mg", "purpose": "pain"}}, "order.purpose", "one of"),
    "medication without text or code": ({"medications": [{"status": "active"}]}, "medications[0].text",
                                        "text or code"),
    "end before start": ({"medications": [{"text": "LDN", "start": "2025-02-01", "end": "2025-01-01"}]},
                         "medications[0].end", "before start"),
    "condition without code or text": ({"conditions": [{"status": "active"}]}, "conditions[0].code",
                                       "text or code"),
    "lab without date": ({"labs": [{"code": "1742-6", "value": 30}]}, "labs[0].date", "Missing data"),
    "lab with a bad date": ({"labs": [{"code": "1742-6", "value": 30, "date": "yesterday"}]}, "labs[0].date",
                            "ISO 8601"),
    "lab without value or result": ({"labs": [{"code": "1742-6", "date": "2025-01-01"}]}, "labs[0].value",
                                    "value or result"),
    "bad evaluation time": ({"evaluationTime": "03/01/2025"}, "evaluationTime", "ISO 8601"),
    "unknown top-level field": ({"patientt": {}}, "patientt", "Unknown field"),
    "unknown nested field": ({"medications": [{"text": "LDN", "dosage": "4.5 mg"}]}, "medications[0].dosage",
                             "Unknown field"),
    "too many medications": ({"medications": [{"text": "LDN"}] * 201}, "medications", "200"),
    "null where an object goes": ({"patient": None}, "patient", "null"),
}


@pytest.mark.parametrize("name", list(FIELD_ERRORS))
def test_invalid_input_is_a_400_problem_naming_the_field_path(client: FlaskClient, name: str) -> None:
    body, path, reason = FIELD_ERRORS[name]
    found = problem(evaluate(client, body), 400)
    assert found["title"] == "Invalid request"
    assert path in found["errors"], found["errors"]
    assert any(reason in text for text in found["errors"][path]), found["errors"][path]
    assert path in found["detail"]


def test_every_invalid_field_is_reported_at_once(client: FlaskClient) -> None:
    body = {"patient": {"age": -1}, "medications": [{"text": "LDN", "dose": {"value": -4.5, "unit": "mg"}}],
            "labs": [{"code": "", "value": 1, "date": "2025-01-01"}], "extra": True}
    errors = problem(evaluate(client, body), 400)["errors"]
    assert set(errors) == {"patient.age", "medications[0].dose.value", "labs[0].code", "extra"}


@pytest.mark.parametrize("word", ["NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize(("template", "path"), [
    ('{"labs": [{"code": "1742-6", "value": %s, "date": "2025-01-01"}]}', "labs[0].value"),
    ('{"labs": [{"code": "1742-6", "value": 1, "referenceHigh": %s, "date": "2025-01-01"}]}', "labs[0].referenceHigh"),
    ('{"medications": [{"text": "LDN", "dose": {"value": %s, "unit": "mg"}}]}', "medications[0].dose.value"),
    ('{"order": {"text": "LDN", "concentration": {"value": %s, "unit": "mg/mL"}}}', "order.concentration.value"),
    ('{"patient": {"age": %s}}', "patient.age"),
])
def test_nan_and_infinity_are_rejected(client: FlaskClient, word: str, template: str, path: str) -> None:
    response = client.post("/v1/evaluate", data=template % word, content_type="application/json")
    assert path in problem(response, 400)["errors"]


@pytest.mark.parametrize("document", ["[]", '[{"order": {"text": "LDN 4.5 mg"}}]', '"LDN"', "42", "true", "null"])
def test_a_body_that_is_not_an_object_is_rejected(client: FlaskClient, document: str) -> None:
    response = client.post("/v1/evaluate", data=document, content_type="application/json")
    assert problem(response, 400)["errors"] == {"body": ["must be a JSON object"]}


@pytest.mark.parametrize("document", [b'{"order": ', b"{'order': {}}", b"", b"\xff\xfe{}", b'{"a": 1,}'])
def test_malformed_json_is_a_400_problem(client: FlaskClient, document: bytes) -> None:
    response = client.post("/v1/evaluate", data=document, content_type="application/json")
    found = problem(response, 400)
    assert found["title"] == "Malformed JSON"
    assert found["errors"] == {"body": ["is not valid JSON"]}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", None])
def test_a_body_that_is_not_json_is_a_415_problem(client: FlaskClient, content_type: str | None) -> None:
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.post("/v1/evaluate", data=json.dumps(LDN_WITH_OXYCODONE), **kwargs)
    found = problem(response, 415)
    assert "application/json" in found["detail"]
    assert "errors" not in found


@pytest.mark.parametrize(("method", "path", "allowed"), [
    ("GET", "/v1/evaluate", "POST"),
    ("PUT", "/v1/evaluate", "POST"),
    ("POST", "/v1/rules", "GET"),
    ("DELETE", "/v1/rules/LDN-OPI-001", "GET"),
    ("POST", "/healthz", "GET"),
])
def test_a_wrong_method_is_a_405_problem_with_allow(client: FlaskClient, method: str, path: str,
                                                    allowed: str) -> None:
    response = client.open(path, method=method)
    problem(response, 405)
    assert allowed in {m.strip() for m in response.headers["Allow"].split(",")}
    assert method not in response.headers["Allow"]


def test_an_unknown_path_is_a_404_problem(client: FlaskClient) -> None:
    problem(client.get("/v1/evaluations"), 404)


def test_a_body_at_the_limit_is_read_and_one_byte_more_is_a_413_problem(client: FlaskClient) -> None:
    document = json.dumps(LDN_WITH_OXYCODONE)
    at_limit = document + " " * (MAX_BODY_BYTES - len(document))
    assert len(at_limit.encode()) == MAX_BODY_BYTES
    response = client.post("/v1/evaluate", data=at_limit, content_type="application/json")
    assert response.status_code == 200
    assert alert(response.get_json(), "LDN-OPI-001")
    over = client.post("/v1/evaluate", data=at_limit + " ", content_type="application/json",
                       headers={"X-Request-ID": "too-big"})
    found = problem(over, 413)
    assert found["requestId"] == "too-big"
    assert str(MAX_BODY_BYTES) in found["detail"]


def test_nothing_internal_leaks_into_an_error(client: FlaskClient) -> None:
    for response in (client.post("/v1/evaluate", data=b"{", content_type="application/json"),
                     client.post("/v1/evaluate", json={"medications": [{"dose": {"value": "x"}}]})):
        text = response.get_data(as_text=True)
        assert "Traceback" not in text and "marshmallow" not in text and ".py" not in text


# ---- defects found while writing these tests, now fixed: regressions --------------------

CRASH_SCRIPT = """
import json, sys
from cds import create_app
app = create_app({"TESTING": True, "LOG_LEVEL": "CRITICAL"})
response = app.test_client().post("/v1/evaluate", json=json.loads(sys.argv[1]))
print(json.dumps({"status": response.status_code, "body": response.get_json()}))
"""


@pytest.mark.parametrize(("body", "check"), [
    pytest.param({"order": {"text": "naltrexone 0.01 mcg once daily", "purpose": "uldn"}},
                 lambda body: body["understood"]["order"]["ingredients"][0]["dailyDoseMg"] == 1e-05,
                 id="ULDN-0.01-mcg"),
    pytest.param({"order": {"text": "naltrexone 0.05 mcg once daily", "purpose": "uldn"}},
                 lambda body: body["understood"]["order"]["doseBand"] == "uldn", id="ULDN-0.05-mcg"),
    pytest.param({"labs": [{"code": "1742-6", "value": 1e16, "unit": "U/L", "date": "2025-01-01"}]},
                 lambda body: body["understood"]["labs"][0]["value"] == 1e16, id="ALT-1e16"),
    pytest.param({"labs": [{"code": "1742-6", "value": 30, "unit": "U/L", "date": "2025-01-01",
                            "referenceHigh": 0.00001}]},
                 lambda body: body["understood"]["labs"][0]["value"] == 30, id="referenceHigh-1e-5"),
])
def test_extreme_but_valid_numbers_do_not_kill_the_process(body: dict[str, Any], check: Any) -> None:
    # Was a SIGSEGV/abort of the whole worker: the durable-rules C core cannot read a number in
    # exponent form, which Python's json writes below 1e-4 mg and from 1e16. Run out of process,
    # because in process a crash would take pytest down with it.
    done = subprocess.run([sys.executable, "-c", CRASH_SCRIPT, json.dumps(body)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-300:]}"
    answer = json.loads(done.stdout)
    assert answer["status"] == 200, answer
    assert check(answer["body"])


def test_a_dose_too_large_to_compute_is_not_a_500(client: FlaskClient) -> None:
    # Was a 500 (EngineError: facts are not plain JSON): 1e308 g overflows to an infinite dose.
    body = {"order": {"text": "naltrexone", "dose": {"value": 1e308, "unit": "g"}, "frequency": "once daily"}}
    response = evaluate(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    answer = response.get_json()
    assert answer["understood"]["order"]["ingredients"][0]["dailyDoseMg"] is None  # not infinity
    assert any(a["category"] == "data-quality" for a in answer["alerts"])


@pytest.mark.parametrize("document", ["[" * 100_000 + "]" * 100_000, '{"a":' * 50_000 + "1" + "}" * 50_000])
def test_deeply_nested_json_is_a_400_problem(client: FlaskClient, document: str) -> None:
    # Was a 500: RecursionError from the JSON parser.
    response = client.post("/v1/evaluate", data=document, content_type="application/json")
    assert problem(response, 400)["errors"] == {"body": ["is not valid JSON"]}


@pytest.mark.parametrize("birth_date", ["2030-01-01", "2025-03-02", "1800-01-01"])
def test_an_impossible_birth_date_is_rejected(client: FlaskClient, birth_date: str) -> None:
    # Was a 200 with age_years -5 (or 225): age is limited to 0-130, birth dates were not.
    body = {"evaluationTime": "2025-03-01", "patient": {"birthDate": birth_date}}
    assert "patient.birthDate" in problem(evaluate(client, body), 400)["errors"]


def test_a_possible_birth_date_gives_the_age_at_the_evaluation_time(client: FlaskClient) -> None:
    body = {"evaluationTime": "2025-03-01", "patient": {"birthDate": "1971-03-02"}}
    assert evaluate(client, body).get_json()["understood"]["patient"]["age_years"] == 53
    body = {"evaluationTime": "2025-03-01", "patient": {"birthDate": "2025-03-01"}}
    assert evaluate(client, body).get_json()["understood"]["patient"]["age_years"] == 0


def test_the_api_module_keeps_working_after_errors(app: Flask) -> None:
    """Errors are per request: after a run of 4xx answers the same app still evaluates."""
    client = app.test_client()
    for document in ("[", "[]", "null", '{"x": 1}'):
        assert client.post("/v1/evaluate", data=document, content_type="application/json").status_code == 400
    assert alert(evaluate(client, LDN_WITH_OXYCODONE).get_json(), "LDN-OPI-001")["severity"] == "critical"


# ---- defects from the independent review, now fixed: regressions ------------------------------

def test_a_lab_after_the_evaluation_time_is_a_400_naming_it(client: FlaskClient) -> None:
    # Bug: a result dated after the evaluation time was accepted (and counted as the latest one).
    body = {"evaluationTime": "2025-03-01T09:00:00Z",
            "labs": [{"code": "1742-6", "value": 30, "unit": "U/L", "date": "2025-02-01"},
                     {"code": "2106-3", "result": "negative", "date": "2025-03-01T09:00:01Z"},
                     {"code": "1920-8", "value": 30, "unit": "U/L", "date": "2025-03-02"}]}
    found = problem(evaluate(client, body), 400)
    assert found["errors"] == {"labs[1].date": ["is after the evaluation time"],
                               "labs[2].date": ["is after the evaluation time"]}
    assert "labs[1].date" in found["detail"]


def test_a_lab_at_the_evaluation_time_and_a_later_medication_start_are_fine(client: FlaskClient) -> None:
    body = {"evaluationTime": "2025-03-01T09:00:00Z",
            "labs": [{"code": "2106-3", "result": "negative", "date": "2025-03-01T09:00:00Z"},
                     {"code": "1742-6", "value": 30, "unit": "U/L", "date": "2025-03-01"}],
            "medications": [{"text": "LDN 1.5 mg qhs", "start": "2025-03-15"}]}
    response = evaluate(client, body)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json()["understood"]["patient"]["pregnancy"] == "not-pregnant"


def test_a_code_and_a_text_naming_different_drugs_are_both_understood(client: FlaskClient) -> None:
    # Bug: the oxycodone code hid the naltrexone the text names.
    body = {"evaluationTime": "2025-03-01T09:00:00Z",
            "medications": [{"code": "7804", "text": "LDN 4.5 mg qhs"}]}
    understood = evaluate(client, body).get_json()["understood"]["medications"][0]
    assert understood["classes"] == ["opioid-agonist", "naltrexone"]
    assert understood["doseBand"] == "unknown"


def test_not_pregnant_against_an_active_pregnancy_code_is_understood_as_unknown(client: FlaskClient) -> None:
    body = {"evaluationTime": "2025-03-01T09:00:00Z", "patient": {"pregnancy": {"status": "not-pregnant"}},
            "conditions": [{"code": "Z33.1"}]}
    patient = evaluate(client, body).get_json()["understood"]["patient"]
    assert patient["pregnancy"] == "unknown"
    assert patient["pregnancy_evidence"].startswith("the record conflicts")


def test_a_rule_page_for_people_following_a_card_link(client: FlaskClient) -> None:
    page = client.get("/v1/rules/LDN-WASH-001", headers={"Accept": "text/html,application/xhtml+xml"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "<h1>LDN-WASH-001" in html and "washout_days" in html and "Naltrexone hydrochloride tablets" in html
    assert client.get("/v1/rules/LDN-WASH-001").mimetype == "application/json"


# ---- POST /v1/evaluate/batch ----------------------------------------------------------------

NDJSON = "application/x-ndjson"
BATCH = "/v1/evaluate/batch"


def batch(client: FlaskClient, *lines: Any, query: str = "", **kwargs: Any) -> TestResponse:
    body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines) + "\n"
    return client.post(BATCH + query, data=body, content_type=kwargs.pop("content_type", NDJSON), **kwargs)


def answers(response: TestResponse) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == NDJSON
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_a_batch_answers_each_line_in_order_as_evaluate_would_streamed(client: FlaskClient) -> None:
    other = {"evaluationTime": "2025-03-03T14:30:00Z", "order": {"text": "LDN 1.5 mg at bedtime"}}
    response = batch(client, LDN_WITH_OXYCODONE, "", other)
    assert response.is_streamed
    found = answers(response)
    assert [line["line"] for line in found] == [1, 3]  # numbered as in the body; a blank line gets no answer
    assert {k: v for k, v in found[0].items() if k != "line"} == evaluate(client, LDN_WITH_OXYCODONE).get_json()
    assert {k: v for k, v in found[1].items() if k != "line"} == evaluate(client, other).get_json()


def test_a_bad_line_gets_a_problem_naming_the_field_and_the_batch_goes_on(client: FlaskClient) -> None:
    found = answers(batch(client, '{"order": ', "[1]", {"patient": {"age": -3}}, LDN_WITH_OXYCODONE,
                          headers={"X-Request-ID": "batch-7"}))
    assert [line["line"] for line in found] == [1, 2, 3, 4]
    errors = [line["error"] for line in found[:3]]
    assert [e["errors"] for e in errors] == [{"body": ["is not valid JSON"]}, {"body": ["must be a JSON object"]},
                                             {"patient.age": ["Must be greater than or equal to 0 and less than or "
                                                              "equal to 130."]}]
    assert [e["title"] for e in errors] == ["Malformed JSON", "Invalid request", "Invalid request"]
    assert all(e["status"] == 400 and e["type"] == "about:blank" and e["requestId"] == "batch-7" for e in errors)
    assert alert(found[3], "LDN-OPI-001")


def test_as_of_is_the_evaluation_time_of_lines_without_one(client: FlaskClient) -> None:
    own = {**LDN_WITH_OXYCODONE}
    without = {k: v for k, v in LDN_WITH_OXYCODONE.items() if k != "evaluationTime"}
    found = answers(batch(client, without, own, query="?asOf=2026-11-23"))
    assert [line["evaluationTime"] for line in found] == ["2026-11-23T00:00:00+00:00", "2025-03-03T14:30:00+00:00"]
    assert "asOf" in problem(batch(client, without, query="?asOf=yesterday"), 400)["errors"]


@pytest.mark.parametrize("content_type", ["application/json", "text/plain", None])
def test_a_batch_that_is_not_ndjson_is_a_415_problem(client: FlaskClient, content_type: str | None) -> None:
    kwargs = {"content_type": content_type} if content_type else {}
    response = client.post(BATCH, data=json.dumps(LDN_WITH_OXYCODONE), **kwargs)
    assert NDJSON in problem(response, 415)["detail"]


def test_a_batch_stops_after_its_line_limit_saying_so(client: FlaskClient) -> None:
    from cds.api import BATCH_MAX_LINES

    found = answers(batch(client, *(["{}"] * (BATCH_MAX_LINES + 2))))
    assert len(found) == BATCH_MAX_LINES + 1
    assert all("alerts" in line for line in found[:-1])
    assert found[-1]["line"] == BATCH_MAX_LINES + 1 and found[-1]["error"]["status"] == 413


def test_a_batch_body_over_its_limit_is_a_413_before_anything_is_evaluated(client: FlaskClient) -> None:
    from cds.api import BATCH_MAX_BYTES

    line = json.dumps(LDN_WITH_OXYCODONE) + "\n"
    at_limit = line * (BATCH_MAX_BYTES // len(line) // 2)  # over 1 MiB, the limit of the other endpoints
    assert len(at_limit) > MAX_BODY_BYTES and len(answers(batch(client, at_limit.rstrip("\n")))) > 1
    over = client.post(BATCH, data=line + " " * BATCH_MAX_BYTES, content_type=NDJSON)
    assert str(BATCH_MAX_BYTES) in problem(over, 413)["detail"]


def test_a_line_over_the_one_request_limit_is_an_error_and_the_next_line_is_read(client: FlaskClient) -> None:
    found = answers(batch(client, " " * (MAX_BODY_BYTES + 10) + "{}", LDN_WITH_OXYCODONE))
    assert found[0]["line"] == 1 and str(MAX_BODY_BYTES) in found[0]["error"]["errors"]["body"][0]
    assert found[1]["line"] == 2 and alert(found[1], "LDN-OPI-001")


def test_batch_answers_keep_to_openapi_yaml(client: FlaskClient) -> None:
    from openapi_core import Config, OpenAPI
    from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
    from openapi_core.datatypes import RequestParameters
    from openapi_core.deserializing.media_types.util import json_loads
    from werkzeug.datastructures import Headers, ImmutableMultiDict

    def ndjson_loads(value: bytes | str, **_: Any) -> list[Any]:
        text = value.decode() if isinstance(value, bytes) else value
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    class Sent:  # the request as openapi-core reads it (the response's path and method are what matter)
        host_url, path, method, content_type, body = "http://localhost/", BATCH, "post", NDJSON, None
        parameters = RequestParameters(query=ImmutableMultiDict(), header=Headers(), cookie=ImmutableMultiDict())

    openapi = OpenAPI.from_file_path(str(ROOT / "openapi.yaml"), config=Config(
        extra_media_type_deserializers={NDJSON: ndjson_loads, PROBLEM_JSON: json_loads}))
    responses = [batch(client, LDN_WITH_OXYCODONE, "{", {"patient": {"age": "x"}}, {}, query="?asOf=2026-11-23"),
                 batch(client, {}, content_type="text/plain"), batch(client, {}, query="?asOf=x"),
                 client.post(BATCH, data=" " * (17 << 20), content_type=NDJSON)]
    assert [r.status_code for r in responses] == [200, 415, 400, 413]
    for response in responses:
        openapi.validate_response(Sent(), WerkzeugOpenAPIResponse(response))
