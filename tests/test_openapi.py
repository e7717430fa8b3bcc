"""openapi.yaml is the HTTP contract: the spec is valid, mirrors the code, and real answers keep to it.

(a) the document itself: valid OpenAPI 3.1, its enums and request schemas equal to the code's
    (cds.rulebook, cds.model, the marshmallow schemas in cds.schemas), the 1 MiB limit documented;
(b) real responses of the Flask test client validated with openapi-core: success and every error;
(c) schemathesis fuzzing in-process (deterministic, bounded): valid requests never get a 5xx and
    every answer conforms; invalid requests (schemathesis negative mode, raw junk from hypothesis)
    always get a 4xx problem+json.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
import yaml
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema.exceptions import best_match
from marshmallow import Schema, fields, validate
from openapi_core import Config, OpenAPI
from openapi_core.contrib.werkzeug import WerkzeugOpenAPIResponse
from openapi_core.datatypes import RequestParameters
from openapi_core.exceptions import OpenAPIError
from openapi_core.deserializing.media_types.util import json_loads
from openapi_schema_validator import OAS31Validator, oas31_format_checker
from openapi_spec_validator import validate as validate_spec
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.datastructures import Headers, ImmutableMultiDict
from werkzeug.test import TestResponse

import cds.engine
from cds.ruleset import RuleSet
from cds import MAX_BODY_BYTES, create_app, model, rulebook, schemas
from cds.service import Evaluator

SPEC_PATH = Path(__file__).resolve().parent.parent / "openapi.yaml"
SPEC_URI = "urn:ldn-cds:openapi"
PROBLEM_JSON = "application/problem+json"
REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


# ---- shared helpers ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def openapi() -> OpenAPI:
    # openapi-core reads only application/json by default; problems are application/problem+json.
    config = Config(extra_media_type_deserializers={PROBLEM_JSON: json_loads})
    return OpenAPI.from_file_path(str(SPEC_PATH), config=config)


@pytest.fixture(scope="module")
def api(ruleset: RuleSet) -> Flask:
    """One app for the module: hypothesis tests must not use function-scoped fixtures."""
    return create_app({"TESTING": True, "RULESET": ruleset})


def component(spec: Mapping[str, Any], pointer: str) -> OAS31Validator:
    """A validator for one part of the spec, e.g. `components/schemas/Problem`, with $refs resolved."""
    registry = Registry().with_resource(SPEC_URI, Resource.from_contents(spec, default_specification=DRAFT202012))
    return OAS31Validator({"$ref": f"{SPEC_URI}#/{pointer}"}, registry=registry,
                          format_checker=oas31_format_checker)


def resolve(spec: Mapping[str, Any], node: Mapping[str, Any]) -> Mapping[str, Any]:
    """Follow local `$ref`s (also into `.../properties/x`) until a schema without one."""
    while "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


@dataclass
class SentRequest:
    """What the test client sent, in the shape openapi-core reads (its Request protocol)."""

    method: str
    path: str
    body: bytes | None = None
    content_type: str = "application/octet-stream"
    headers: dict[str, str] = field(default_factory=dict)
    host_url: str = "http://localhost/"

    @property
    def parameters(self) -> RequestParameters:
        return RequestParameters(query=ImmutableMultiDict(), header=Headers(self.headers),
                                 cookie=ImmutableMultiDict())


def send(client: FlaskClient, method: str, path: str, body: Any = None, *, raw: bytes | str | None = None,
         content_type: str | None = "application/json",
         headers: dict[str, str] | None = None) -> tuple[TestResponse, SentRequest]:
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    data_bytes = data.encode("utf-8") if isinstance(data, str) else data
    kwargs: dict[str, Any] = {"method": method, "headers": headers or {}}
    if data_bytes is not None:
        kwargs["data"] = data_bytes
        if content_type:
            kwargs["content_type"] = content_type
    response = client.open(path, **kwargs)
    sent = SentRequest(method.lower(), path, data_bytes, content_type or "application/octet-stream",
                       dict(headers or {}))
    return response, sent


def _explain(error: BaseException) -> str:
    """The few schema errors that matter, with where they are (openapi-core prints whole bodies)."""
    def closest(schema_error: Any) -> Any:
        # For oneOf/anyOf, follow the branch that came nearest (fewest errors): for a medication
        # fact that is MedicationFact, not PatientFact.
        while schema_error.context:
            branches: dict[Any, list[Any]] = {}
            for sub in schema_error.context:
                branches.setdefault(sub.schema_path[0], []).append(sub)
            schema_error = best_match(min(branches.values(), key=len))
        return schema_error

    cause = error.__cause__ or error
    found = []
    for schema_error in getattr(cause, "schema_errors", None) or ():
        deepest = closest(schema_error)
        found.append(f"{deepest.json_path}: {deepest.message[:300]}")
    return "; ".join(dict.fromkeys(found)) or f"{type(cause).__name__}: {str(cause)[:500]}"


def conforms(openapi: OpenAPI, response: TestResponse, sent: SentRequest) -> dict[str, Any]:
    """Validate a real response against the operation's documented response; return its JSON."""
    try:
        openapi.validate_response(sent, WerkzeugOpenAPIResponse(response))
    except OpenAPIError as error:
        pytest.fail(f"{sent.method.upper()} {sent.path} -> {response.status_code} breaks openapi.yaml: "
                    f"{_explain(error)}", pytrace=False)
    assert REQUEST_ID.match(response.headers["X-Request-ID"])
    return json.loads(response.get_data(as_text=True))


def is_problem(response: TestResponse, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body = json.loads(response.get_data(as_text=True))
    assert body["status"] == status
    assert body["requestId"] == response.headers["X-Request-ID"]
    return body


# ---- (a) the document ----------------------------------------------------------------------

def test_the_spec_is_valid_openapi_3_1(spec: dict[str, Any]) -> None:
    assert spec["openapi"].startswith("3.1.")
    validate_spec(spec)


def test_the_spec_loads_in_openapi_core_and_schemathesis(openapi: OpenAPI) -> None:
    assert openapi.spec is not None
    loaded = schemathesis.openapi.from_path(str(SPEC_PATH))
    labels = {operation.ok().label for operation in loaded.get_all_operations()}
    assert labels == {"POST /v1/evaluate", "POST /v1/evaluate/batch", "GET /v1/rules", "GET /v1/rules/{ruleId}", "GET /healthz",
                      "GET /cds-services", "POST /cds-services/{serviceId}", "POST /cds-services/{serviceId}/feedback",
                      "POST /v1/taper", "POST /v1/titration"}


def test_every_flask_route_is_documented(spec: dict[str, Any], app: Flask) -> None:
    # Every route of the HTTP API; the web page's HTML routes (blueprint `web`) are for people.
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    served = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule).replace("{rule_id}", "{ruleId}")
               .replace("{service_id}", "{serviceId}"), method)
              for rule in app.url_map.iter_rules() if rule.endpoint != "static" and not rule.endpoint.startswith("web.")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert any(rule.endpoint.startswith("web.") for rule in app.url_map.iter_rules())
    assert documented == served


def test_the_body_limit_is_documented(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/v1/evaluate"]["post"]
    assert "413" in operation["responses"]
    limit = f"{MAX_BODY_BYTES:,}"
    assert limit in spec["info"]["description"]
    assert limit in operation["description"]
    assert str(MAX_BODY_BYTES) in json.dumps(spec["components"]["responses"]["PayloadTooLarge"])


def test_alert_and_rule_enums_equal_the_rulebook(spec: dict[str, Any]) -> None:
    schemas_ = spec["components"]["schemas"]
    assert tuple(schemas_["Category"]["enum"]) == rulebook.CATEGORIES
    assert len(rulebook.CATEGORIES) == 15
    assert set(schemas_["Severity"]["enum"]) == set(rulebook.SEVERITIES)
    assert schemas_["Alert"]["properties"]["summary"]["maxLength"] == rulebook.SUMMARY_LIMIT
    assert schemas_["Rule"]["properties"]["summary"]["maxLength"] == rulebook.SUMMARY_LIMIT


def test_fact_schemas_equal_the_rule_vocabulary(spec: dict[str, Any]) -> None:
    """`matched` facts are the facts of cds.model.FACT_FIELDS, field for field, word for word."""
    schemas_ = spec["components"]["schemas"]
    fact_schema = {"patient": "PatientFact", "order": "MedicationFact", "medication": "MedicationFact",
                   "condition": "ConditionFact", "lab": "LabFact", "problem": "ProblemFact", "chart": "ChartFact"}
    assert set(fact_schema) == set(model.FACT_FIELDS)
    kinds = {"number": {"number", "integer"}, "text": {"string"}, "yes/no": {"boolean"}}
    shared: dict[str, set[str]] = {}  # a schema shared by several facts documents all their fields
    for fact, fields_ in model.FACT_FIELDS.items():
        shared.setdefault(fact_schema[fact], set()).update(fields_)
    for fact, fields_ in model.FACT_FIELDS.items():
        properties = schemas_[fact_schema[fact]]["properties"]
        assert set(properties) - {"as", "fact"} == shared[fact_schema[fact]], fact
        for name, kind in fields_.items():
            documented = resolve(spec, properties[name])
            if isinstance(kind, tuple):
                assert tuple(documented["enum"]) == kind, f"{fact}.{name}"
            else:
                assert documented["type"] in kinds[kind], f"{fact}.{name}"
    assert tuple(schemas_["DrugClass"]["enum"]) == model.CLASSES
    assert tuple(schemas_["Concept"]["enum"]) == model.CONCEPTS
    assert tuple(schemas_["Analyte"]["enum"]) == model.ANALYTES
    assert tuple(schemas_["DoseBand"]["enum"]) == model.DOSE_BANDS
    assert tuple(schemas_["Purpose"]["enum"]) == model.PURPOSES
    assert tuple(schemas_["MedicationStatus"]["enum"]) == model.STATUS
    assert tuple(schemas_["OpioidUse"]["enum"]) == model.OPIOID_USE


REQUEST_SCHEMAS: dict[str, type[Schema]] = {
    "EvaluateRequest": schemas.EvaluateRequestSchema,
    "Patient": schemas.PatientSchema,
    "PregnancyStatus": schemas._Pregnancy,
    "LactationStatus": schemas._Lactation,
    "Quantity": schemas._Quantity,
    "Medication": schemas.MedicationSchema,
    "Order": schemas.OrderSchema,
    "Condition": schemas.ConditionSchema,
    "Lab": schemas.LabSchema,
}
NESTED = {schema_cls: name for name, schema_cls in REQUEST_SCHEMAS.items()}


def _check_field(spec: Mapping[str, Any], where: str, marshmallow_field: fields.Field,
                 documented: Mapping[str, Any]) -> None:
    raw = documented
    documented = resolve(spec, documented)
    validators = list(marshmallow_field.validators)
    if isinstance(marshmallow_field, fields.Nested):
        target = NESTED[type(marshmallow_field.schema)]
        if marshmallow_field.many:  # a list of objects, with the list's own validators below
            assert documented["type"] == "array", where
            assert documented["items"]["$ref"] == f"#/components/schemas/{target}", where
        else:
            assert raw["$ref"] == f"#/components/schemas/{target}", where
            return
    elif isinstance(marshmallow_field, fields.List):
        assert documented["type"] == "array", where
        _check_field(spec, f"{where}[]", marshmallow_field.inner, documented["items"])
    elif isinstance(marshmallow_field, schemas.DateOrDateTime):
        assert raw["$ref"] == "#/components/schemas/DateOrDateTime", where
    elif isinstance(marshmallow_field, fields.Date):
        assert (documented["type"], documented["format"]) == ("string", "date"), where
    elif isinstance(marshmallow_field, fields.Integer):
        assert documented["type"] == "integer", where
    elif isinstance(marshmallow_field, fields.Float):
        assert documented["type"] == "number", where
        assert marshmallow_field.allow_nan is False, where  # JSON Schema numbers are finite
    elif isinstance(marshmallow_field, fields.Boolean):
        assert documented["type"] == "boolean", where
    elif isinstance(marshmallow_field, fields.String):
        assert documented["type"] == "string" or "enum" in documented, where
    else:  # a new field type: describe it in openapi.yaml and teach this test
        pytest.fail(f"{where}: no rule for {type(marshmallow_field).__name__}")
    for validator in validators:
        if isinstance(validator, validate.OneOf):
            assert tuple(documented["enum"]) == tuple(validator.choices), where
        elif isinstance(validator, validate.Length):
            key = "Items" if documented.get("type") == "array" else "Length"
            assert documented.get(f"min{key}") == validator.min, where
            assert documented.get(f"max{key}") == validator.max, where
        elif isinstance(validator, validate.Range):
            low = "minimum" if validator.min_inclusive else "exclusiveMinimum"
            high = "maximum" if validator.max_inclusive else "exclusiveMaximum"
            assert documented.get(low) == validator.min, where
            assert documented.get(high) == validator.max, where
        else:
            pytest.fail(f"{where}: no rule for validator {validator!r}")
    default = marshmallow_field.load_default
    if isinstance(default, str):
        assert documented.get("default") == default, where
    elif callable(default):
        assert documented.get("default") == default(), where


@pytest.mark.parametrize("name", sorted(REQUEST_SCHEMAS))
def test_request_schemas_mirror_the_marshmallow_schemas(spec: dict[str, Any], name: str) -> None:
    """Same fields, same required fields, unknown fields refused, same enums, lengths and ranges."""
    documented = spec["components"]["schemas"][name]
    loaded = REQUEST_SCHEMAS[name]()
    assert documented["type"] == "object"
    assert documented["additionalProperties"] is False  # marshmallow's unknown=RAISE
    assert loaded.unknown == "raise"
    assert set(documented["properties"]) == set(loaded.fields), name
    assert set(documented.get("required", ())) == {n for n, f in loaded.fields.items() if f.required}, name
    for field_name, marshmallow_field in loaded.fields.items():
        _check_field(spec, f"{name}.{field_name}", marshmallow_field, documented["properties"][field_name])


def test_list_limits_equal_the_code(spec: dict[str, Any]) -> None:
    properties = spec["components"]["schemas"]["EvaluateRequest"]["properties"]
    assert properties["medications"]["maxItems"] == schemas.MAX_MEDICATIONS
    assert properties["conditions"]["maxItems"] == schemas.MAX_CONDITIONS
    assert properties["labs"]["maxItems"] == schemas.MAX_LABS


def test_documented_examples_are_valid(spec: dict[str, Any]) -> None:
    examples = spec["components"]["examples"]
    component(spec, "components/schemas/EvaluateRequest").validate(examples["LdnWithOxycodoneRequest"]["value"])
    component(spec, "components/schemas/Evaluation").validate(examples["LdnWithOxycodoneResponse"]["value"])
    for name, response in spec["components"]["responses"].items():
        content = response["content"][PROBLEM_JSON]
        documented = [content["example"]] if "example" in content else \
            [example["value"] for example in content.get("examples", {}).values()]
        for example in documented:
            component(spec, f"components/responses/{name}/content/application~1problem+json/schema").validate(example)


def test_the_example_request_gets_the_documented_alerts(spec: dict[str, Any], openapi: OpenAPI,
                                                        client: FlaskClient) -> None:
    examples = spec["components"]["examples"]
    request = examples["LdnWithOxycodoneRequest"]["value"]
    documented = examples["LdnWithOxycodoneResponse"]["value"]
    response, sent = send(client, "POST", "/v1/evaluate", request, headers={"X-Request-ID": "ehr-7f3c2a91"})
    openapi.validate_request(sent)
    body = conforms(openapi, response, sent)
    assert response.status_code == 200
    assert [(a["rule"], a["severity"], a["category"]) for a in body["alerts"]] == \
        [(a["rule"], a["severity"], a["category"]) for a in documented["alerts"]]
    assert body["alerts"][0]["rule"] == "LDN-OPI-001"
    assert body["evaluationTime"] == documented["evaluationTime"]
    assert body["understood"]["order"]["doseBand"] == documented["understood"]["order"]["doseBand"]


# ---- (b) real responses against the contract -----------------------------------------------

CLINICAL_REQUESTS: dict[str, dict[str, Any]] = {
    "ldn with oxycodone": {
        "evaluationTime": "2025-03-03T14:30:00Z",
        "patient": {"age": 54, "sex": "female", "pregnancy": {"status": "not-pregnant"}},
        "order": {"text": "naltrexone 4.5 mg capsule, 1 at bedtime", "purpose": "ldn"},
        "medications": [{"text": "oxycodone 5 mg tablet 1 every 6 hours as needed"}],
    },
    "opioid ordered while on ldn": {
        "evaluationTime": "2025-03-03",
        "patient": {"birthDate": "1960-02-29", "sex": "male"},
        "order": {"text": "tramadol 50 mg tablet twice daily"},
        "medications": [{"text": "LDN 3 mg at bedtime", "start": "2024-01-10"}],
    },
    "structured doses, stopped opioid, liver and kidney labs": {
        "evaluationTime": "2025-03-03T09:00:00+01:00",
        "patient": {"age": 33, "sex": "female", "lactation": {"status": "lactating", "evidence": "breastfeeding"}},
        "order": {"text": "naltrexone", "dose": {"value": 1.5, "unit": "mg"}, "frequency": "at bedtime",
                  "purpose": "ldn"},
        "medications": [
            {"text": "hydrocodone/acetaminophen 5/325", "dose": {"value": 1, "unit": "tablet"},
             "frequency": "q6h prn", "status": "stopped", "start": "2025-01-01", "end": "2025-02-27"},
            {"text": "methadone oral solution", "dose": {"value": 5, "unit": "mL"},
             "concentration": {"value": 10, "unit": "mg/5 mL"}, "frequency": "daily", "status": "completed",
             "end": "2025-02-25"},
            {"text": "tacrolimus 1 mg bid"},
            {"text": "zolpidem 10 mg qhs"},
            {"text": "an unheard-of remedy 2 drops"},
        ],
        "conditions": [{"code": "K74.60", "text": "Cirrhosis"}, {"code": "N18.5"}, {"text": "kidney transplant"},
                       {"code": "Z94.0", "status": "resolved"}],
        "labs": [
            {"code": "1742-6", "value": 180, "unit": "U/L", "date": "2025-02-20", "referenceHigh": 45},
            {"code": "1920-8", "value": 95, "unit": "IU/L", "date": "2025-02-20T08:00:00Z"},
            {"code": "2160-0", "value": 350, "unit": "umol/L", "date": "2025-02-20"},
            {"code": "98979-8", "value": 12, "unit": "mL/min/1.73m2", "date": "2025-02-20"},
            {"code": "1975-2", "value": 2, "unit": "furlongs", "date": "2025-02-20"},
            {"code": "2106-3", "result": "negative", "date": "2025-02-28"},
            {"code": "0000-0", "value": 1, "date": "2025-02-20"},
        ],
    },
    "uldn for an opioid taper, naloxone kit": {
        "evaluationTime": "2025-03-03",
        "patient": {"age": 41, "sex": "female", "pregnancy": {"status": "pregnant"}},
        "order": {"text": "naltrexone 1 mcg twice daily", "purpose": "uldn"},
        "medications": [{"text": "Narcan 4 mg nasal spray prn"}, {"text": "Suboxone 8/2 mg film daily"},
                        {"text": "naltrexone 50 mg daily"}, {"text": "Lomotil 2.5 mg qid prn"}],
        "conditions": [{"code": "F11.20", "text": "Opioid use disorder"}],
    },
    "dose mismatch and unreadable dose": {
        "order": {"text": "naltrexone 45 mg at bedtime", "purpose": "ldn"},
        "medications": [{"text": "naltrexone", "dose": {"value": 4.5, "unit": "ml"}, "frequency": "daily"},
                        {"code": "7243"}, {"code": "999999999", "system": "http://example.org/local"}],
    },
    "nothing to check": {},
}


@pytest.mark.parametrize("name", sorted(CLINICAL_REQUESTS))
def test_clinical_requests_get_conforming_answers(name: str, openapi: OpenAPI, client: FlaskClient) -> None:
    response, sent = send(client, "POST", "/v1/evaluate", CLINICAL_REQUESTS[name])
    openapi.validate_request(sent)
    assert response.status_code == 200, response.get_data(as_text=True)
    conforms(openapi, response, sent)


def test_clinical_requests_exercise_every_kind_of_fact_and_many_categories(client: FlaskClient) -> None:
    """So that the conformance tests above really check each part of the alert schema."""
    kinds: set[str] = set()
    categories: set[str] = set()
    nulls_and_values: set[str] = set()
    for request in CLINICAL_REQUESTS.values():
        body = client.post("/v1/evaluate", json=request).get_json()
        for alert in body["alerts"]:
            categories.add(alert["category"])
            kinds.update(fact["fact"] for fact in alert["matched"])
            if alert["parameters"]:
                nulls_and_values.add("parameters")
        understood = body["understood"]
        nulls_and_values.add("order" if understood["order"] else "no order")
        if understood["conditions"]:
            nulls_and_values.add("conditions")
        if understood["labs"]:
            nulls_and_values.add("labs")
        if understood["notUsed"]:
            nulls_and_values.add("notUsed")
    assert kinds == {"patient", "order", "medication", "condition", "lab", "problem"}
    assert len(categories) >= 8, categories
    assert nulls_and_values == {"parameters", "order", "no order", "conditions", "labs", "notUsed"}


def test_catalogue_health_and_each_rule_conform(openapi: OpenAPI, client: FlaskClient) -> None:
    response, sent = send(client, "GET", "/v1/rules")
    catalogue = conforms(openapi, response, sent)
    for rule in catalogue["rules"]:
        response, sent = send(client, "GET", f"/v1/rules/{rule['id']}")
        assert conforms(openapi, response, sent) == rule
    response, sent = send(client, "GET", "/healthz")
    assert conforms(openapi, response, sent)["rules"] == len(catalogue["rules"])


ERRORS: dict[str, dict[str, Any]] = {
    "malformed JSON": {"raw": '{"order": {"text": "naltrexone 4.5 mg"', "status": 400, "field": "body"},
    "empty body": {"raw": "", "status": 400, "field": "body"},
    "top-level array": {"raw": "[]", "status": 400, "field": "body"},
    "NaN literal": {"raw": '{"labs": [{"code": "1742-6", "value": NaN, "date": "2025-01-01"}]}', "status": 400,
                    "field": "labs[0].value"},
    "unknown field": {"body": {"order": {"text": "LDN 1.5 mg", "dosage": "1.5 mg"}}, "status": 400,
                      "field": "order.dosage"},
    "wrong type": {"body": {"medications": [{"text": "LDN", "dose": {"value": "lots", "unit": "mg"}}]},
                   "status": 400, "field": "medications[0].dose.value"},
    "out of range": {"body": {"patient": {"age": 131}}, "status": 400, "field": "patient.age"},
    "text/plain": {"raw": "{}", "content_type": "text/plain", "status": 415},
    "no content type": {"raw": "{}", "content_type": None, "status": 415},
    "oversized body": {"raw": " " * MAX_BODY_BYTES + "{}", "status": 413},
}


@pytest.mark.parametrize("name", list(ERRORS))
def test_error_answers_conform(name: str, openapi: OpenAPI, client: FlaskClient) -> None:
    case = ERRORS[name]
    response, sent = send(client, "POST", "/v1/evaluate", case.get("body"), raw=case.get("raw"),
                          content_type=case.get("content_type", "application/json"),
                          headers={"X-Request-ID": f"err-{name.replace(' ', '-').replace('/', '-')}"})
    body = is_problem(response, case["status"])
    assert conforms(openapi, response, sent) == body
    if "field" in case:
        assert case["field"] in body["errors"], body
    else:
        assert "errors" not in body


def test_unknown_rule_id_is_a_conforming_404(openapi: OpenAPI, client: FlaskClient) -> None:
    response, sent = send(client, "GET", "/v1/rules/LDN-XYZ-999")
    body = is_problem(response, 404)
    assert conforms(openapi, response, sent) == body
    assert "LDN-XYZ-999" in body["detail"]


@pytest.mark.parametrize(("method", "path", "status", "response_name"), [
    ("GET", "/v1/evaluate", 405, "MethodNotAllowed"),
    ("DELETE", "/v1/rules", 405, "MethodNotAllowed"),
    ("POST", "/healthz", 405, "MethodNotAllowed"),
    ("GET", "/v2/evaluate", 404, "NotFound"),
    ("GET", "/v1/rules/LDN-OPI-001/extra", 404, "NotFound"),
])
def test_undocumented_methods_and_paths_get_documented_problems(
        spec: dict[str, Any], client: FlaskClient, method: str, path: str, status: int, response_name: str) -> None:
    response = client.open(path, method=method)
    body = is_problem(response, status)
    component(spec, f"components/responses/{response_name}/content/application~1problem+json/schema").validate(body)
    if status == 405:
        assert response.headers["Allow"]
        assert method not in response.headers["Allow"]


# Contract gaps found while writing these tests, now fixed: regressions.

@pytest.mark.parametrize("value", ["4.5", " 7 ", "1e3", True])
def test_a_number_written_as_a_string_is_rejected(client: FlaskClient, value: Any) -> None:
    # Was accepted: marshmallow's fields.Float reads numeric strings; the contract says number.
    body = {"medications": [{"text": "naltrexone", "dose": {"value": value, "unit": "mg"}, "frequency": "daily"}]}
    response = client.post("/v1/evaluate", json=body)
    assert is_problem(response, 400)["errors"] == {"medications[0].dose.value": ["Not a valid number."]}


def test_an_integral_float_age_is_an_integer(client: FlaskClient) -> None:
    # Was a 400: 54.0 is an integer in JSON Schema (and in JSON), fields.Integer(strict=True) refused it.
    response = client.post("/v1/evaluate", json={"patient": {"age": 54.0}})
    assert response.status_code == 200
    assert response.get_json()["understood"]["patient"]["age_years"] == 54
    assert "patient.age" in is_problem(client.post("/v1/evaluate", json={"patient": {"age": 54.5}}), 400)["errors"]


def test_evaluation_time_in_the_answer_is_always_rfc3339(openapi: OpenAPI, client: FlaskClient) -> None:
    # Was a 200 echoing "2025-03-01T09:00:00+05:30:15", which is not an RFC 3339 date-time.
    response, sent = send(client, "POST", "/v1/evaluate", {"evaluationTime": "2025-03-01T09:00:00+05:30:15"})
    assert "evaluationTime" in is_problem(response, 400)["errors"]
    conforms(openapi, response, sent)


# ---- (c) fuzzing ---------------------------------------------------------------------------

class EngineCrashGuard:
    """Stands in for the durable-rules C module during fuzzing.

    The C core kills the whole process (SIGSEGV or abort) on a number in exponent form ("1e-05"),
    which Python's json writes below 1e-4 and from 1e16 (durable-rules defect 10 in cds/engine.py,
    regression in test_api.py). Should that fence ever break, a fuzzed input would take pytest
    down with it: raise instead, so the service answers 500 and the fuzz test fails, naming it.
    """

    def __init__(self, core: Any) -> None:
        self._core = core

    def __getattr__(self, name: str) -> Any:
        return getattr(self._core, name)

    def assert_facts(self, handle: Any, payload: str) -> Any:
        def number(text: str) -> float:
            if "e" in text.lower():
                raise RuntimeError(f"fact number {text} would crash the durable-rules C core")
            return float(text)

        json.loads(payload, parse_float=number)
        return self._core.assert_facts(handle, payload)


@pytest.fixture(scope="module")
def fuzz_schema(api: Flask) -> Iterator[Any]:
    loaded = schemathesis.openapi.from_path(str(SPEC_PATH))
    loaded.app = api
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cds.engine, "_core", EngineCrashGuard(cds.engine._core))
        yield loaded


FUZZ_SETTINGS = settings(max_examples=80, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck), print_blob=False)
CONFORMANCE = [not_a_server_error, status_code_conformance, content_type_conformance,
               response_headers_conformance, response_schema_conformance]


@pytest.mark.parametrize(("path", "method", "examples"), [
    ("/v1/evaluate", "POST", 100),
    ("/v1/rules", "GET", 10),
    ("/v1/rules/{ruleId}", "GET", 40),
    ("/healthz", "GET", 10),
])
def test_fuzzed_valid_requests_never_get_a_5xx_and_conform(fuzz_schema: Any, evaluator: Evaluator, path: str,
                                                          method: str, examples: int) -> None:
    operation = fuzz_schema[path][method]
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    if "{ruleId}" in path:  # random ids are all 404s: fuzz the real ones too (headers stay generated)
        ids = sorted(rule.id for rule in evaluator.rulebook.rules)
        strategy = st.one_of(strategy, st.sampled_from(ids).flatmap(
            lambda rule_id: operation.as_strategy(generation_mode=GenerationMode.POSITIVE,
                                                  path_parameters={"ruleId": rule_id})))
    statuses: list[int] = []

    @settings(FUZZ_SETTINGS, max_examples=examples)
    @given(case=strategy)
    def run(case: Any) -> None:
        response = case.call_and_validate(checks=CONFORMANCE)
        statuses.append(response.status_code)

    run()
    assert 200 in statuses  # the fuzzer reached the real work, not only the error paths


def test_fuzzed_invalid_bodies_get_a_4xx_problem(fuzz_schema: Any) -> None:
    operation = fuzz_schema["/v1/evaluate"]["POST"]
    statuses: list[int] = []

    @settings(FUZZ_SETTINGS, max_examples=100)
    @given(case=operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    def run(case: Any) -> None:
        response = case.call()
        statuses.append(response.status_code)
        case.validate_response(response, checks=[*CONFORMANCE, negative_data_rejection])
        assert 400 <= response.status_code < 500, response.text
        assert response.headers["content-type"][0].startswith(PROBLEM_JSON)
        problem = response.json()
        assert problem["status"] == response.status_code
        if response.status_code == 400:
            assert problem["errors"]

    run()
    assert 400 in statuses


# Requests shaped like real ones, so that fuzzing reaches the terminology, dose reading and rules
# (schema-driven strings almost never name a drug, a LOINC code or a unit LDN CDS knows).
DRUG_TEXTS = ["naltrexone", "LDN", "naltrexone 4.5 mg at bedtime", "naltrexone 1 mcg bid", "naltrexone 0.05 mcg daily",
              "naltrexone 50 mg daily", "Vivitrol", "Contrave", "oxycodone 5 mg q6h prn", "Percocet 5/325 1 q6h prn",
              "morphine ER 15 mg bid", "methadone 40 mg daily", "Suboxone 8/2 mg film daily", "tramadol 50 mg",
              "Narcan 4 mg nasal spray", "Lomotil 2.5 mg qid prn", "codeine cough syrup", "loperamide 2 mg prn",
              "tacrolimus 1 mg bid", "tacrolimus ointment", "prednisone 5 mg", "alprazolam 0.5 mg tid",
              "zolpidem 10 mg qhs", "thioridazine", "disulfiram", "Movantik", "Lybalvi", "frobnicate 2 drops"]
AMOUNTS = [0.00001, 0.01, 0.05, 0.25, 1, 1.5, 4.5, 10, 50, 325, 1e16, 1e300]
DOSE = st.fixed_dictionaries({"value": st.sampled_from(AMOUNTS),
                              "unit": st.sampled_from(["mg", "mcg", "g", "mL", "tablet", "drops"])})
MEDICATION = st.fixed_dictionaries({"text": st.sampled_from(DRUG_TEXTS)}, optional={
    "code": st.sampled_from(["7243", "7804", "1191", "99999"]),
    "dose": DOSE,
    "concentration": st.fixed_dictionaries({"value": st.sampled_from(AMOUNTS),
                                            "unit": st.sampled_from(["mg/mL", "mcg/mL", "mg/5 mL"])}),
    "frequency": st.sampled_from(["daily", "bid", "q6h prn", "at bedtime", "q72h", "weekly"]),
    "status": st.sampled_from(["active", "on-hold", "stopped", "completed", "unknown"]),
    "start": st.sampled_from(["2024-01-01", "2025-02-20"]),
    "end": st.sampled_from(["2025-02-25", "2025-04-01"]),
})
CLINICAL = st.fixed_dictionaries({"evaluationTime": st.just("2025-03-01T10:00:00Z")}, optional={
    "patient": st.fixed_dictionaries({}, optional={
        "age": st.integers(0, 130), "sex": st.sampled_from(["female", "male", "other", "unknown"]),
        "pregnancy": st.fixed_dictionaries({"status": st.sampled_from(["pregnant", "not-pregnant", "unknown"])}),
        "lactation": st.fixed_dictionaries({"status": st.sampled_from(["lactating", "not-lactating", "unknown"])})}),
    "order": MEDICATION.map(lambda m: {**m, "purpose": "ldn"} if "LDN" in m["text"] else m),
    "medications": st.lists(MEDICATION, max_size=4),
    "conditions": st.lists(st.fixed_dictionaries({"code": st.sampled_from(
        ["K74.60", "K72.00", "N18.5", "Z99.2", "Z94.0", "Z33.1", "Z39.1", "F11.20", "Z79.891", "M79.7"])},
        optional={"status": st.sampled_from(["active", "resolved"])}), max_size=3),
    "labs": st.lists(st.fixed_dictionaries({
        "code": st.sampled_from(["1742-6", "1920-8", "1975-2", "2160-0", "98979-8", "2106-3", "82810-3"]),
        "date": st.sampled_from(["2024-06-01", "2025-02-27", "2025-02-28T23:00:00-05:00"])}, optional={
        "value": st.sampled_from(AMOUNTS), "unit": st.sampled_from(["U/L", "mg/dL", "umol/L", "mL/min/1.73m2", "?"]),
        "result": st.sampled_from(["positive", "negative"]), "referenceHigh": st.sampled_from(AMOUNTS)}).filter(
        lambda lab: "value" in lab or "result" in lab), max_size=4),
}).filter(lambda body: all(m.get("end", "9") >= m.get("start", "0")
                           for m in [body.get("order", {}), *body.get("medications", [])]))


def test_fuzzed_clinical_requests_never_get_a_5xx_and_conform(fuzz_schema: Any, api: Flask,
                                                             openapi: OpenAPI) -> None:
    client = api.test_client()
    rules: set[str] = set()

    @settings(FUZZ_SETTINGS, max_examples=150)
    @given(body=CLINICAL)
    def run(body: dict[str, Any]) -> None:
        response, sent = send(client, "POST", "/v1/evaluate", body)
        assert response.status_code == 200, response.get_data(as_text=True)
        rules.update(alert["rule"] for alert in conforms(openapi, response, sent)["alerts"])

    run()
    assert len(rules) >= 15, sorted(rules)  # it reached the rules, not only data-quality


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=20)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
TOP_LEVEL_KEYS = set(schemas.EvaluateRequestSchema().fields)


@FUZZ_SETTINGS
@given(body=st.one_of(
    st.binary(max_size=200).map(lambda b: ("bytes", b)),
    JSON_VALUES.filter(lambda v: not isinstance(v, dict)).map(lambda v: ("not an object", json.dumps(v))),
    st.dictionaries(st.text(min_size=1, max_size=12).filter(lambda k: k not in TOP_LEVEL_KEYS), JSON_VALUES,
                    min_size=1, max_size=4).map(lambda v: ("unknown fields", json.dumps(v))),
    st.sampled_from(["NaN", "Infinity", "-Infinity"]).flatmap(
        lambda word: st.sampled_from([
            '{"labs": [{"code": "1742-6", "value": %s, "date": "2025-01-01"}]}',
            '{"patient": {"age": %s}}',
            '{"medications": [{"text": "LDN", "dose": {"value": %s, "unit": "mg"}}]}',
            '{"labs": [{"code": "2160-0", "value": 1, "date": "2025-01-01", "referenceHigh": %s}]}',
        ]).map(lambda template: ("non-finite", template % word))),
))
def test_junk_bodies_get_a_400_problem_never_a_5xx(api: Flask, body: tuple[str, bytes | str]) -> None:
    kind, data = body
    response = api.test_client().post("/v1/evaluate", data=data, content_type="application/json")
    if kind == "bytes" and response.status_code == 200:
        return  # random bytes that happen to be a valid request, e.g. b"{}"
    assert response.status_code == 400, (kind, data, response.get_data(as_text=True))
    assert response.mimetype == PROBLEM_JSON
    problem = json.loads(response.get_data(as_text=True))
    assert problem["errors"] and all(isinstance(reasons, list) and reasons for reasons in problem["errors"].values())
