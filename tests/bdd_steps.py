"""Generic Gherkin steps for the rule specifications in features/*.feature.

One vocabulary for every rule area: there is no step per rule. Given steps build an evaluation
request in the shape of the public JSON API (cds/schemas.py); the When step sends it with the
Flask test client to POST /v1/evaluate; Then steps read the alerts in the response. Nothing is
mocked: the real rule files, terminology and durable-rules engine run for every scenario.

Imported by tests/test_features.py with `from bdd_steps import *`: pytest-bdd registers each
step as a module-level fixture, so a star import makes them visible there.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from pytest_bdd import given, parsers, then, when

RULE_ID = r"(?:LDN|CDC)-[A-Z0-9]+-\d{3}"
_PURPOSES = {"uldn": "uldn", "vldn": "vldn", "ldn": "ldn", "standard dosing": "standard", "standard": "standard"}
_STATUS_WORDS = {"": "active", "active": "active", "taking": "active", "stopped": "stopped",
                 "completed": "completed", "on hold": "on-hold", "on-hold": "on-hold", "unknown": "unknown"}
_DAYS_AGO = re.compile(r"^(\d+) days? ago$")


class Evaluation:
    """The service's answer to one scenario, and which alerts the scenario has accounted for."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.alerts: list[dict[str, Any]] = body["alerts"]
        self.accounted: set[str] = set()

    def find(self, rule: str) -> dict[str, Any] | None:
        return next((alert for alert in self.alerts if alert["rule"] == rule), None)

    def describe(self) -> str:
        if not self.alerts:
            return "no alerts were raised"
        return "alerts raised:\n" + "\n".join(
            f"  {a['rule']} ({a['severity']}, {a['category']}): {a['summary']}" for a in self.alerts)


@pytest.fixture()
def ldn_request() -> dict[str, Any]:
    """The evaluation request the Given steps fill in."""
    return {"patient": {}, "medications": [], "conditions": [], "labs": []}


# ---- helpers -------------------------------------------------------------------------------

def _table(datatable: list[list[str]]) -> list[dict[str, str]]:
    """Data table rows as {lower-case header: stripped cell}."""
    header = [cell.strip().lower() for cell in datatable[0]]
    return [dict(zip(header, (cell.strip() for cell in row), strict=True)) for row in datatable[1:]]


def _first(row: dict[str, str], *names: str) -> str:
    for name in names:
        if row.get(name):
            return row[name]
    return ""


def _evaluation_date(request: dict[str, Any]) -> date:
    if "evaluationTime" not in request:
        raise AssertionError('a relative date needs "Given the evaluation date is YYYY-MM-DD" first')
    return date.fromisoformat(request["evaluationTime"][:10])


def _date(request: dict[str, Any], written: str) -> str:
    """An ISO date, or "N days ago" counted back from the evaluation date."""
    found = _DAYS_AGO.match(written)
    if found:
        return (_evaluation_date(request) - timedelta(days=int(found.group(1)))).isoformat()
    return date.fromisoformat(written).isoformat()


def _number(written: str) -> float | int:
    value = float(written)
    return int(value) if value.is_integer() else value


def _medication(request: dict[str, Any], row: dict[str, str]) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    text = _first(row, "medication", "medicine", "drug")
    code = _first(row, "rxnorm", "rxnorm code")
    if text:
        entry["text"] = text
    if code:
        entry["code"] = code
    status = row.get("status", "").lower()
    if status not in _STATUS_WORDS:
        raise AssertionError(f"unknown medication status {status!r}; use one of {sorted(_STATUS_WORDS)}")
    stopped_on = _first(row, "stopped on", "stopped")
    entry["status"] = _STATUS_WORDS[status] if status or not stopped_on else "stopped"
    started_on = _first(row, "started on", "started")
    if started_on:
        entry["start"] = _date(request, started_on)
    if stopped_on:
        entry["end"] = _date(request, stopped_on)
    return entry


# ---- Given: the patient ----------------------------------------------------------------------

@given(parsers.re(r"the evaluation date is (?P<day>\d{4}-\d{2}-\d{2})"))
def evaluation_date(ldn_request: dict[str, Any], day: str) -> None:
    ldn_request["evaluationTime"] = date.fromisoformat(day).isoformat()


@given(parsers.re(r"an? (?P<age>\d+)-year-old (?P<sex>female|male|other) patient"))
def patient_with_age_and_sex(ldn_request: dict[str, Any], age: str, sex: str) -> None:
    ldn_request["patient"].update(age=int(age), sex=sex)


@given(parsers.re(r"an? (?P<age>\d+)-year-old patient whose sex is not recorded"))
def patient_with_age_only(ldn_request: dict[str, Any], age: str) -> None:
    ldn_request["patient"]["age"] = int(age)


@given(parsers.re(r"an? (?P<sex>female|male|other) patient whose age is not recorded"))
def patient_with_sex_only(ldn_request: dict[str, Any], sex: str) -> None:
    ldn_request["patient"]["sex"] = sex


@given(parsers.re(r"an? (?P<sex>female|male|other) patient born on (?P<born>\d{4}-\d{2}-\d{2})"))
def patient_born_on(ldn_request: dict[str, Any], sex: str, born: str) -> None:
    ldn_request["patient"].update(birthDate=born, sex=sex)


@given(parsers.re(r"(?:her|his|their|the patient's) (?P<what>pregnancy|breastfeeding) status is not documented"))
def status_not_documented(ldn_request: dict[str, Any], what: str) -> None:
    ldn_request["patient"].pop("pregnancy" if what == "pregnancy" else "lactation", None)


@given(parsers.re(r"(?:she|the patient) is (?P<negated>not )?(?P<what>pregnant|breastfeeding)"
                  r"(?: \((?P<evidence>[^)]+)\))?"))
def pregnancy_or_lactation(ldn_request: dict[str, Any], negated: str | None, what: str, evidence: str | None) -> None:
    if what == "pregnant":
        key, status = "pregnancy", ("not-pregnant" if negated else "pregnant")
    else:
        key, status = "lactation", ("not-lactating" if negated else "lactating")
    ldn_request["patient"][key] = {"status": status, **({"evidence": evidence} if evidence else {})}


# ---- Given: medications, problems, labs ------------------------------------------------------

@given(parsers.re(r"the medication list is:"))
def medication_list(ldn_request: dict[str, Any], datatable: list[list[str]]) -> None:
    """Columns: medication (as written), and optionally status, started on, stopped on, RxNorm.

    Dates are ISO dates or "N days ago". A row with a stop date and no status is stopped.
    """
    ldn_request["medications"] += [_medication(ldn_request, row) for row in _table(datatable)]


@given(parsers.re(r'the patient (?:takes|is taking) "(?P<text>[^"]+)"'))
def takes(ldn_request: dict[str, Any], text: str) -> None:
    ldn_request["medications"].append({"text": text, "status": "active"})


@given(parsers.re(r'the patient stopped "(?P<text>[^"]+)" (?:on )?(?P<when>\d{4}-\d{2}-\d{2}|\d+ days? ago)'))
def stopped(ldn_request: dict[str, Any], text: str, when: str) -> None:
    ldn_request["medications"].append({"text": text, "status": "stopped", "end": _date(ldn_request, when)})


@given(parsers.re(r"the problem list (?:is|has|records):"))
def problem_list(ldn_request: dict[str, Any], datatable: list[list[str]]) -> None:
    """Columns: ICD-10 or SNOMED CT (the code), condition (its name), and optionally status."""
    for row in _table(datatable):
        entry: dict[str, Any] = {}
        if row.get("snomed ct") or row.get("snomed"):
            entry.update(code=_first(row, "snomed ct", "snomed"), system="http://snomed.info/sct")
        elif row.get("icd-10") or row.get("code"):
            entry["code"] = _first(row, "icd-10", "code")
        if row.get("condition"):
            entry["text"] = row["condition"]
        if row.get("status"):
            entry["status"] = row["status"].lower()
        ldn_request["conditions"].append(entry)


@given(parsers.re(r"the (?:lab|laboratory) results are:"))
def lab_results(ldn_request: dict[str, Any], datatable: list[list[str]]) -> None:
    """Columns: test (its name, for the reader), LOINC, value or result, unit, taken (a date or
    "N days ago"), and optionally upper limit (the laboratory's reference high)."""
    for row in _table(datatable):
        entry: dict[str, Any] = {"code": row["loinc"], "date": _date(ldn_request, _first(row, "taken", "date"))}
        if row.get("value"):
            entry["value"] = _number(row["value"])
        if row.get("result"):
            entry["result"] = row["result"]
        if row.get("unit"):
            entry["unit"] = row["unit"]
        if row.get("upper limit"):
            entry["referenceHigh"] = _number(row["upper limit"])
        ldn_request["labs"].append(entry)


# ---- When: the order -----------------------------------------------------------------------

def _evaluate(client: FlaskClient, request: dict[str, Any]) -> Evaluation:
    body = {key: value for key, value in request.items() if value not in ({}, [])}
    response = client.post("/v1/evaluate", json=body)
    assert response.status_code == 200, f"POST /v1/evaluate answered {response.status_code}: {response.get_json()}"
    return Evaluation(response.get_json())


def _purpose(written: str | None) -> dict[str, str]:
    return {"purpose": _PURPOSES[written.lower()]} if written else {}


_FOR_PURPOSE = r"(?: for (?P<purpose>ULDN|VLDN|LDN|standard dosing))?"


@when(parsers.re(r'naltrexone is ordered as "(?P<text>[^"]+)"' + _FOR_PURPOSE), target_fixture="evaluation")
def order_naltrexone(client: FlaskClient, ldn_request: dict[str, Any], text: str, purpose: str | None) -> Evaluation:
    return _evaluate(client, {**ldn_request, "order": {"text": text, **_purpose(purpose)}})


@when(parsers.re(r'naltrexone is ordered with a dose of (?P<value>[\d.]+) (?P<unit>\S+) (?P<frequency>.+?)'
                 + _FOR_PURPOSE), target_fixture="evaluation")
def order_naltrexone_structured(client: FlaskClient, ldn_request: dict[str, Any], value: str, unit: str,
                                frequency: str, purpose: str | None) -> Evaluation:
    order = {"text": "naltrexone", "dose": {"value": _number(value), "unit": unit}, "frequency": frequency,
             **_purpose(purpose)}
    return _evaluate(client, {**ldn_request, "order": order})


@when(parsers.re(r'"(?P<text>[^"]+)" is ordered'), target_fixture="evaluation")
def order_other(client: FlaskClient, ldn_request: dict[str, Any], text: str) -> Evaluation:
    return _evaluate(client, {**ldn_request, "order": {"text": text}})


@when(parsers.re(r"the record is checked without a new order"), target_fixture="evaluation")
def no_order(client: FlaskClient, ldn_request: dict[str, Any]) -> Evaluation:
    return _evaluate(client, ldn_request)


# ---- Then: the alerts ----------------------------------------------------------------------

@then(parsers.re(rf"alert (?P<rule>{RULE_ID}) is (?P<outcome>raised|not raised)"
                 r"(?: with severity (?P<severity>info|warning|critical))?"))
def alert_outcome(evaluation: Evaluation, rule: str, outcome: str, severity: str | None) -> None:
    alert = evaluation.find(rule)
    if outcome == "not raised":
        assert severity is None, "a severity only goes with 'is raised'"
        assert alert is None, f"{rule} should not be raised, but was: {alert and alert['summary']}"
        return
    assert alert is not None, f"{rule} should be raised; {evaluation.describe()}"
    evaluation.accounted.add(rule)
    if severity:
        assert alert["severity"] == severity, f"{rule} has severity {alert['severity']}, not {severity}"


@then(parsers.re(rf'alert (?P<rule>{RULE_ID}) mentions "(?P<text>[^"]+)"'))
def alert_mentions(evaluation: Evaluation, rule: str, text: str) -> None:
    alert = evaluation.find(rule)
    assert alert is not None, f"{rule} should be raised; {evaluation.describe()}"
    words = " ".join([alert["summary"], alert["detail"]]).lower()
    assert text.lower() in words, f"{rule} does not mention {text!r}: {alert['summary']}"


@then(parsers.re(r"no alert is raised"))
def no_alert(evaluation: Evaluation) -> None:
    assert not evaluation.alerts, evaluation.describe()


@then(parsers.re(r"no other alert is raised"))
def no_other_alert(evaluation: Evaluation) -> None:
    others = [a for a in evaluation.alerts if a["rule"] not in evaluation.accounted]
    assert not others, f"unexpected alerts: {[a['rule'] for a in others]}; {evaluation.describe()}"


@then(parsers.re(r"no (?!other )(?P<category>[a-z-]+) alert is raised"))
def no_alert_of_category(evaluation: Evaluation, category: str) -> None:
    found = [a["rule"] for a in evaluation.alerts if a["category"] == category]
    assert not found, f"no {category} alert expected, got {found}; {evaluation.describe()}"


@then(parsers.re(r"an? (?P<categories>[a-z-]+(?: or [a-z-]+)*) alert is raised"))
def alert_of_category(evaluation: Evaluation, categories: str) -> None:
    wanted = set(categories.split(" or "))
    found = [a["rule"] for a in evaluation.alerts if a["category"] in wanted]
    assert found, f"expected an alert of category {' or '.join(sorted(wanted))}; {evaluation.describe()}"
    evaluation.accounted.update(found)


@then(parsers.re(r'the order is read as "(?P<words>[^"]+)"'))
def order_read_as(evaluation: Evaluation, words: str) -> None:
    order = evaluation.body["understood"]["order"]
    assert order is not None, "the service did not understand an order"
    assert order["dose"] is not None and words in order["dose"], \
        f"the order was read as {order['dose']!r}, expected it to say {words!r}"


# ---- When: the same patient through CDS Hooks (features/cds-hooks.feature) -------------------
# The Given steps' patient becomes FHIR R4 resources sent as an EHR would: prefetch Bundles and a
# draft MedicationRequest. CDS Hooks evaluates "now", so dates keep their distance from the
# scenario's evaluation date.

_HOOK_SERVICES = {"order-sign": "/cds-services/ldn-order-sign-v1", "patient-view": "/cds-services/ldn-patient-view-v1"}


def _shift(request: dict[str, Any]) -> Any:
    scenario_day = date.fromisoformat(request.get("evaluationTime", date.today().isoformat())[:10])
    offset = date.today() - scenario_day
    return lambda day: (date.fromisoformat(str(day)[:10]) + offset).isoformat()


def _fhir_medication(index: int, entry: dict[str, Any], shift: Any, status: str | None = None) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "MedicationRequest", "id": f"rx-{index}", "intent": "order",
                                "status": status or {"on-hold": "on-hold", "unknown": "unknown"}.get(
                                    entry.get("status", "active"), "active"),
                                "subject": {"reference": "Patient/p1"},
                                "medicationCodeableConcept": {"text": entry["text"]}}
    if entry.get("status") in ("stopped", "completed"):
        resource["status"] = "stopped"
    if entry.get("end"):
        resource["dispenseRequest"] = {"validityPeriod": {"end": shift(entry["end"])}}
    return resource


def _hook_request(request: dict[str, Any], hook: str, order_text: str | None) -> dict[str, Any]:
    shift = _shift(request)
    patient = request.get("patient", {})
    fhir_patient: dict[str, Any] = {"resourceType": "Patient", "id": "p1",
                                    "gender": {"other": "other"}.get(patient.get("sex"), patient.get("sex", "unknown"))}
    if "age" in patient:  # born on 1 January: the age is right whatever today is
        fhir_patient["birthDate"] = date(date.today().year - patient["age"], 1, 1).isoformat()
    conditions = [{"resourceType": "Condition", "id": f"c-{i}", "subject": {"reference": "Patient/p1"},
                   "clinicalStatus": {"coding": [{"code": c.get("status", "active")}]},
                   "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": c["code"]}],
                            "text": c.get("text", c["code"])}}
                  for i, c in enumerate(request.get("conditions", [])) if c.get("code")]
    labs = []
    for i, lab in enumerate(request.get("labs", [])):
        observation: dict[str, Any] = {"resourceType": "Observation", "id": f"o-{i}", "status": "final",
                                       "subject": {"reference": "Patient/p1"},
                                       "code": {"coding": [{"system": "http://loinc.org", "code": lab["code"]}]},
                                       "effectiveDateTime": shift(lab["date"])}
        if "value" in lab:
            observation["valueQuantity"] = {"value": lab["value"], "unit": lab.get("unit", "")}
        else:
            observation["valueString"] = lab["result"]
        labs.append(observation)
    medications = [_fhir_medication(i, m, shift) for i, m in enumerate(request.get("medications", []))]

    def bundle(resources: list[dict[str, Any]]) -> dict[str, Any]:
        return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}

    context: dict[str, Any] = {"userId": "Practitioner/pharmacist", "patientId": "p1"}
    if order_text:
        draft = _fhir_medication(99, {"text": order_text}, shift, status="draft")
        context["draftOrders"] = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": draft}]}
    return {"hook": hook, "hookInstance": "bdd-hook-instance", "context": context,
            "prefetch": {"patient": fhir_patient, "medicationRequests": bundle(medications),
                         "medicationStatements": None, "conditions": bundle(conditions), "labs": bundle(labs)}}


def _through_hooks(client: FlaskClient, request: dict[str, Any], hook: str, order_text: str | None) -> Evaluation:
    response = client.post(_HOOK_SERVICES[hook], json=_hook_request(request, hook, order_text))
    assert response.status_code == 200, f"{hook} answered {response.status_code}: {response.get_json()}"
    alerts = [{"rule": card["links"][0]["url"].rsplit("/", 1)[1], "severity": card["indicator"],
               "category": card["source"]["topic"]["code"], "summary": card["summary"], "detail": card["detail"]}
              for card in response.get_json()["cards"]]
    return Evaluation({"alerts": alerts, "cards": response.get_json()["cards"]})


@when(parsers.re(r'the EHR signs the order "(?P<text>[^"]+)" through CDS Hooks'), target_fixture="evaluation")
def sign_through_hooks(client: FlaskClient, ldn_request: dict[str, Any], text: str) -> Evaluation:
    return _through_hooks(client, ldn_request, "order-sign", text)


@when(parsers.re(r"the EHR opens the patient's chart \(CDS Hooks patient-view\)"), target_fixture="evaluation")
def chart_through_hooks(client: FlaskClient, ldn_request: dict[str, Any]) -> Evaluation:
    return _through_hooks(client, ldn_request, "patient-view", None)


@then(parsers.re(r'the card for (?P<rule>LDN-[A-Z]+-\d{3}) offers to "(?P<label>[^"]+)"'))
def card_offers(evaluation: Evaluation, rule: str, label: str) -> None:
    cards = [c for c in evaluation.body["cards"] if c["links"][0]["url"].endswith(rule)]
    assert cards, f"no card for {rule}; {evaluation.describe()}"
    labels = [s["label"] for c in cards for s in c.get("suggestions", ())]
    assert label in labels, f"{rule} offers {labels}"
