"""cds.hooks.fhir: FHIR R4 context and prefetch into the plain evaluation request.

Every shared CDS Hooks example is read (the published non-JSON ones repaired only as
../shared/README.md allows), the result validated with the API's own schema and evaluated by the
real service; synthetic resources cover the LDN and ULDN orders, references, statuses and dates.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from cds.hooks.fhir import DraftOrder, FhirError, HookPatient, clip_to, read_hook
from cds.schemas import EVALUATE_REQUEST, MAX_MEDICATIONS
from cds.service import Evaluator

from . import SHARED_EXAMPLES

EXAMPLES = SHARED_EXAMPLES
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
NOW = "2026-11-23T09:00:00Z"
_ENVELOPE = {"hook", "hookInstance", "fhirServer", "fhirAuthorization", "context", "prefetch", "extension",
             "user", "patient", "applyCql"}


# ---- the shared examples ----------------------------------------------------------------------------
def example(name: str) -> dict[str, Any]:
    """A request as published; the rec-11 patient-view ones repaired as the shared README allows
    (the JSON value before the trailing characters, resources beside `prefetch` moved into it)."""
    text = (EXAMPLES / name).read_text()
    if not name.startswith("opioid-cds-r4-rec11-patient-view/"):
        return json.loads(text)
    body, _ = json.JSONDecoder().raw_decode(text)
    prefetch = body.setdefault("prefetch", {})
    for key in [k for k in body if k not in _ENVELOPE]:
        prefetch[key] = body.pop(key)
    return body


def envelope(body: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """context and prefetch as the view passes them (a legacy `context.prefetch` moved out)."""
    context = dict(body["context"])
    prefetch = dict(body.get("prefetch") or {})
    if isinstance(context.get("prefetch"), dict):
        prefetch.update(context.pop("prefetch"))
    return context, prefetch


def read_example(name: str) -> HookPatient:
    body = example(name)
    context, prefetch = envelope(body)
    return read_hook(body.get("hook", "order-select"), context, prefetch)


REQUESTS = sorted(str(p.relative_to(EXAMPLES)) for p in EXAMPLES.rglob("*.json")
                  if p.name.startswith("request") or p.name.endswith("-context.json")
                  or p.name.startswith("warfarin-nsaids"))
NOT_JSON = "opioid-cds-r4/request-example-rec-11-opioid-trigger-with-benzo.json"  # for the view's 400 test


def codes(entries: list[dict[str, Any]]) -> list[str]:
    return [e.get("code") for e in entries]


def validated(patient: HookPatient, order: dict[str, Any] | None = None, when: str = NOW) -> dict[str, Any]:
    body = {**patient.request, "evaluationTime": when}
    if order is not None:
        body["order"] = order
    return EVALUATE_REQUEST.load(body)


def test_the_example_requests_are_all_found() -> None:
    assert len(REQUESTS) == 14
    with pytest.raises(json.JSONDecodeError):
        json.loads((EXAMPLES / NOT_JSON).read_text())


@pytest.mark.parametrize("name", [n for n in REQUESTS if n != NOT_JSON])
def test_every_example_maps_to_a_valid_request_that_evaluates(name: str, evaluator: Evaluator) -> None:
    patient = read_example(name)
    assert "order" not in patient.request
    when = "2023-05-01T12:00:00Z" if "rec11" in name or "opioid-cds-r4" in name else NOW
    evaluator.evaluate(validated(patient, when=when))
    for draft in patient.draft_orders:
        assert isinstance(draft, DraftOrder)
        assert draft.resource_type == draft.resource["resourceType"]
        if draft.entry is not None:
            evaluator.evaluate(validated(patient, draft.entry, when))
            # the views also list the other drafts as medications: an entry fits both schemas
            EVALUATE_REQUEST.load({**patient.request, "medications": [draft.entry]})
    json.dumps(patient.request)  # JSON-like, as the schema's input
    for note in patient.notes:
        assert isinstance(note, str) and note


@pytest.mark.parametrize("name, classes", [
    ("request-example-rec-11-patient-view-benzo-trigger-with-opioid.json", {"opioid-agonist", "benzodiazepine"}),
    ("request-example-rec-11-patient-view-opioid-trigger-with-benzo.json", {"opioid-agonist", "benzodiazepine"}),
    ("request-example-rec-11-patient-view-benzo-trigger-without-opioid.json", {"benzodiazepine"}),
    ("request-example-rec-11-patient-view-opioid-trigger-without-benzo.json", {"opioid-agonist"}),
])
def test_rec11_patient_view_examples_give_the_opioid_and_the_benzodiazepine(name: str, classes: set[str],
                                                                           evaluator: Evaluator) -> None:
    patient = read_example(f"opioid-cds-r4-rec11-patient-view/{name}")
    assert patient.draft_orders == () and patient.selections == ()
    assert patient.request["patient"] == {"sex": "female", "birthDate": "2003-05-01"}
    medications = patient.request["medications"]
    expected = {"opioid-agonist": "1049502", "benzodiazepine": "1298088"}
    assert sorted(codes(medications)) == sorted(expected[c] for c in classes)
    for medication in medications:
        assert medication["system"] == RXNORM and medication["status"] == "active"
        assert medication["dose"]["unit"] in ("tablet", "capsule") and medication["frequency"] == "once daily"
    understood = evaluator.evaluate(validated(patient, when="2023-05-01T12:00:00Z")).to_dict()["understood"]
    assert {c for m in understood["medications"] for c in m["classes"]} == classes


def test_rec11_order_select_with_a_bare_medication_request_as_draft_orders() -> None:
    patient = read_example("opioid-cds/request-example-rec-11-opioid-trigger-with-benzo.json")
    (draft,) = patient.draft_orders
    assert (draft.resource_type, draft.resource_id) == ("MedicationRequest",
                                                        "example-rec-11-opioid-trigger-with-benzo-context")
    assert draft.entry == {"text": "12 HR Oxycodone Hydrochloride 10 MG Extended Release Oral Tablet",
                           "code": "1049502", "system": RXNORM, "dose": {"value": 1.0, "unit": "tablet"},
                           "frequency": "once daily", "start": "2022-04-28"}
    assert codes(patient.request["medications"]) == ["1298088"]
    assert patient.request["medications"][0]["start"] == "2022-03-31"
    assert any("Encounter" in note for note in patient.notes)


def test_rec10_order_sign_reads_the_fentanyl_order_and_the_oxycodone_on_file() -> None:
    patient = read_example("opioid-cds/request-example-rec-10-order-sign-no-screenings.json")
    (draft,) = patient.draft_orders
    assert draft.entry["code"] == "197696" and draft.entry["dose"] == {"value": 1.0, "unit": "patch"}
    assert codes(patient.request["medications"]) == ["1049502"]
    assert patient.request["medications"][0]["frequency"] == "three times daily"
    assert patient.request["patient"] == {"sex": "female", "birthDate": "1982-01-07"}


@pytest.mark.parametrize("name", ["warfarin-nsaids-order-select-coordination.json",
                                  "warfarin-nsaids-order-sign-coordination.json"])
def test_pddi_coordination_gives_warfarin_the_nsaid_order_and_the_ulcer(name: str) -> None:
    patient = read_example(f"pddi-cds/{name}")
    (draft,) = patient.draft_orders
    assert draft.entry["code"] == "834022"  # ketorolac
    assert draft.entry["text"] == "Ketorolac Tromethamine 10 MG Oral Tablet"
    assert codes(patient.request["medications"]) == ["855350"]  # warfarin
    assert patient.request["conditions"] == [{"code": "12847006", "system": "http://snomed.info/sct",
                                              "text": "Acute duodenal ulcer with hemorrhage", "status": "active"}]
    if "select" in name:
        assert patient.selections == ("MedicationRequest/ketorolac-draft-order-test",)
        assert draft.resource_id == "ketorolac-draft-order-test"
    else:
        assert draft.resource_id is None and patient.selections == ()


def test_pddi_medication_prescribe_reads_context_medications_as_the_draft_orders() -> None:
    patient = read_example("pddi-cds/request-warfarin-nsaid-scenario-02.json")
    (draft,) = patient.draft_orders
    assert draft.entry["code"] == "197805"  # ibuprofen, a Bundle entry that is the resource itself
    assert codes(patient.request["medications"]) == ["855295"]  # warfarin, in a {response, resource} wrapper
    assert any("context.medications" in note for note in patient.notes)


def test_hook_library_contexts_keep_other_order_types_unevaluated() -> None:
    for name in ("order-select-context.json", "order-sign-context.json"):
        patient = read_example(f"hook-library/{name}")
        nutrition, medication = patient.draft_orders
        assert (nutrition.resource_type, nutrition.entry) == ("NutritionOrder", None)
        # R4 doseAndRate (order-select) and STU3 doseQuantity on the dosage (order-sign) alike
        assert medication.entry == {
            "text": "Amoxicillin 120 MG/ML / clavulanate potassium 8.58 MG/ML Oral Suspension",
            "code": "617993", "system": RXNORM, "dose": {"value": 5, "unit": "mL"}, "frequency": "twice daily"}
        assert any("NutritionOrder" in note for note in patient.notes)
    assert read_example("hook-library/order-select-context.json").selections == (
        "NutritionOrder/pureeddiet-simple", "MedicationRequest/smart-MedicationRequest-103")


def test_spec_patient_view_example_reads_the_patient() -> None:
    patient = read_example("spec-2.0.1/request-patient-view-example.json")
    assert patient.request == {"patient": {"sex": "male", "birthDate": "1925-12-23"}, "medications": [],
                               "conditions": [], "labs": []}


# ---- synthetic resources -------------------------------------------------------------------------------
def med_request(id_: str = "mr1", *, code: str | None = "7243", display: str = "naltrexone",
                dosage: dict[str, Any] | None = None, status: str = "draft", **more: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {"resourceType": "MedicationRequest", "id": id_, "status": status, "intent": "order",
                                "subject": {"reference": "Patient/p1"}, "authoredOn": "2026-11-23"}
    if code is not None:
        resource["medicationCodeableConcept"] = {"coding": [{"system": RXNORM, "code": code, "display": display}]}
    if dosage is not None:
        resource["dosageInstruction"] = [dosage]
    resource.update(more)
    return resource


def bundle(*resources: dict[str, Any], kind: str = "searchset") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}


def order_select(draft: dict[str, Any], prefetch: dict[str, Any] | None = None) -> HookPatient:
    context = {"userId": "Practitioner/1", "patientId": "p1", "draftOrders": bundle(draft, kind="collection"),
               "selections": [f"MedicationRequest/{draft['id']}"]}
    return read_hook("order-select", context, prefetch or {})


def patient_view(*resources: dict[str, Any]) -> HookPatient:
    return read_hook("patient-view", {"userId": "Practitioner/1", "patientId": "p1"},
                     {"patient": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1980-05-01"},
                      "items": bundle(*resources)})


def evaluate(evaluator: Evaluator, patient: HookPatient, order: dict[str, Any] | None = None) -> dict[str, Any]:
    return evaluator.evaluate(validated(patient, order)).to_dict()


def test_ldn_at_bedtime_is_read_as_four_and_a_half_mg_a_day(evaluator: Evaluator) -> None:
    draft = med_request(dosage={"timing": {"code": {"coding": [{"code": "HS"}], "text": "at bedtime"}},
                                "doseAndRate": [{"doseQuantity": {"value": 4.5, "unit": "mg", "system": UCUM,
                                                                  "code": "mg"}}]})
    patient = order_select(draft)
    (order,) = patient.draft_orders
    assert order.entry == {"text": "naltrexone", "code": "7243", "system": RXNORM, "dose": {"value": 4.5, "unit": "mg"},
                           "frequency": "at bedtime", "start": "2026-11-23"}
    assert patient.selections == ("MedicationRequest/mr1",)
    understood = evaluate(evaluator, patient, order.entry)["understood"]["order"]
    assert understood["dose"] == "naltrexone 4.5 mg a day at bedtime"
    assert understood["doseBand"] == "ldn" and understood["timeOfDay"] == "bedtime"


def test_uldn_one_microgram_twice_daily_is_ultra_low(evaluator: Evaluator) -> None:
    draft = med_request(dosage={"timing": {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/"
                                                                          "v3-GTSAbbreviation", "code": "BID"}]}},
                                "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "µg", "system": UCUM,
                                                                  "code": "ug"}}]})
    (order,) = order_select(draft).draft_orders
    assert order.entry["dose"] == {"value": 1, "unit": "ug"} and order.entry["frequency"] == "twice daily"
    understood = evaluate(evaluator, order_select(draft), order.entry)["understood"]["order"]
    assert understood["ingredients"][0]["dailyDoseMg"] == pytest.approx(0.002)
    assert understood["doseBand"] == "uldn"


def test_a_contained_medication_is_read_through_its_reference(evaluator: Evaluator) -> None:
    draft = med_request(code=None, medicationReference={"reference": "#ldn"},
                        contained=[{"resourceType": "Medication", "id": "ldn",
                                    "code": {"coding": [{"system": RXNORM, "code": "7243", "display": "naltrexone"}],
                                             "text": "Naltrexone (compounded)"}}],
                        dosage={"timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}},
                                "doseAndRate": [{"doseQuantity": {"value": 1.5, "unit": "mg"}}]})
    (order,) = order_select(draft).draft_orders
    assert order.entry["code"] == "7243" and order.entry["text"] == "Naltrexone (compounded)"
    assert order.entry["frequency"] == "once daily at bedtime"
    understood = evaluate(evaluator, order_select(draft), order.entry)["understood"]["order"]
    assert understood["dose"] == "naltrexone 1.5 mg a day at bedtime" and understood["doseBand"] == "ldn"


def test_a_bundled_medication_with_a_liquid_strength_gives_a_concentration(evaluator: Evaluator) -> None:
    medication = {"resourceType": "Medication", "id": "ldn-liquid",
                  "ingredient": [{"itemCodeableConcept": {"coding": [{"system": RXNORM, "code": "7243",
                                                                     "display": "naltrexone"}]},
                                  "strength": {"numerator": {"value": 1, "unit": "mg", "system": UCUM, "code": "mg"},
                                               "denominator": {"value": 1, "unit": "mL", "system": UCUM,
                                                               "code": "mL"}}}]}
    draft = med_request(code=None, medicationReference={"reference": "Medication/ldn-liquid"},
                        dosage={"timing": {"code": {"coding": [{"code": "QD"}]}},
                                "doseAndRate": [{"doseQuantity": {"value": 3, "unit": "mL", "system": UCUM,
                                                                  "code": "mL"}}]})
    context = {"patientId": "p1", "draftOrders": bundle(draft, medication, kind="collection")}
    patient = read_hook("order-sign", context, {})
    (order,) = patient.draft_orders  # the Medication is not an order
    assert order.entry["concentration"] == {"value": 1.0, "unit": "mg/mL"}
    understood = evaluate(evaluator, patient, order.entry)["understood"]["order"]
    assert understood["ingredients"][0]["dailyDoseMg"] == pytest.approx(3.0)


def test_a_medication_in_a_prefetch_bundle_is_found_by_its_full_reference() -> None:
    medication = {"resourceType": "Medication", "id": "m9",
                  "code": {"coding": [{"system": RXNORM, "code": "7804", "display": "oxycodone"}]}}
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": "active",
                 "medicationReference": {"reference": "https://ehr.example/fhir/Medication/m9/_history/2"},
                 "dosage": [{"text": "5 mg every 6 hours as needed"}]}
    patient = patient_view(statement, medication)
    assert patient.request["medications"] == [{"text": "oxycodone 5 mg every 6 hours as needed", "code": "7804",
                                               "system": RXNORM, "status": "active"}]


def test_a_medication_statement_for_oxycodone_conflicts_with_an_ldn_order(evaluator: Evaluator) -> None:
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": "active",
                 "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": "1049621",
                                                           "display": "oxycodone hydrochloride 5 MG Oral Tablet"}],
                                               "text": "Oxycodone 5 mg tablet"},
                 "effectiveDateTime": "2026-10-01",
                 "dosage": [{"text": "1 tab every 6 hours as needed for pain"}]}
    patient = patient_view(statement)
    (medication,) = patient.request["medications"]
    assert medication == {"text": "Oxycodone 5 mg tablet 1 tab every 6 hours as needed for pain", "code": "1049621",
                          "system": RXNORM, "status": "active", "start": "2026-10-01"}
    ldn = {"text": "LDN 4.5 mg at bedtime"}
    result = evaluate(evaluator, patient, ldn)
    assert "LDN-OPI-001" in [a["rule"] for a in result["alerts"]]
    (understood,) = result["understood"]["medications"]
    assert understood["classes"] == ["opioid-agonist"] and understood["asNeeded"] is True
    assert understood["ingredients"][0]["dailyDoseMg"] == pytest.approx(20.0)


def test_a_stopped_statement_gives_its_end_date_and_counts_for_the_washout(evaluator: Evaluator) -> None:
    statement = {"resourceType": "MedicationStatement", "id": "s2", "status": "stopped",
                 "medicationCodeableConcept": {"text": "tramadol 50 mg bid"},
                 "effectivePeriod": {"start": "2026-09-01", "end": "2026-11-18T20:00:00-05:00"}}
    patient = patient_view(statement)
    assert patient.request["medications"] == [{"text": "tramadol 50 mg bid", "status": "stopped",
                                               "start": "2026-09-01", "end": "2026-11-18"}]
    alerts = [a["rule"] for a in evaluate(evaluator, patient, {"text": "LDN 1.5 mg at bedtime"})["alerts"]]
    assert "LDN-WASH-001" in alerts and "LDN-OPI-001" not in alerts


def test_a_kidney_transplant_condition_is_read(evaluator: Evaluator) -> None:
    condition = {"resourceType": "Condition", "id": "c1",
                 "clinicalStatus": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                                "code": "active"}]},
                 "verificationStatus": {"coding": [{"code": "confirmed"}]},
                 "code": {"coding": [{"system": "http://snomed.info/sct", "code": "737295003"},
                                     {"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "Z94.0",
                                      "display": "Kidney transplant status"}]}}
    patient = patient_view(condition)
    assert patient.request["conditions"] == [{"code": "Z94.0", "system": "http://hl7.org/fhir/sid/icd-10-cm",
                                              "text": "Kidney transplant status", "status": "active"}]
    understood = evaluate(evaluator, patient, {"text": "LDN 1.5 mg at bedtime"})["understood"]["conditions"]
    assert [c["concept"] for c in understood] == ["transplant"]


@pytest.mark.parametrize("clinical, verification, expected", [
    ({"coding": [{"code": "recurrence"}]}, None, "active"),
    ({"coding": [{"code": "remission"}]}, None, "resolved"),
    ({"coding": [{"code": "inactive"}]}, None, "resolved"),
    ("resolved", "confirmed", "resolved"),  # STU3 codes as strings
    ("active", "differential", "active"),
    (None, None, "active"),
    ({"coding": [{"code": "active"}]}, {"coding": [{"code": "refuted"}]}, None),
    ({"coding": [{"code": "active"}]}, "entered-in-error", None),
])
def test_condition_statuses(clinical: Any, verification: Any, expected: str | None) -> None:
    condition: dict[str, Any] = {"resourceType": "Condition", "id": "c1",
                                 "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10", "code": "K74.60"}],
                                          "text": "Cirrhosis of liver"}}
    if clinical is not None:
        condition["clinicalStatus"] = clinical
    if verification is not None:
        condition["verificationStatus"] = verification
    patient = patient_view(condition)
    if expected is None:
        assert patient.request["conditions"] == []
        assert any("Condition" in note and "not used" in note for note in patient.notes)
    else:
        (entry,) = patient.request["conditions"]
        assert entry == {"code": "K74.60", "system": "http://hl7.org/fhir/sid/icd-10", "text": "Cirrhosis of liver",
                         "status": expected}


def test_an_abated_condition_without_status_is_resolved_and_an_uncoded_one_keeps_its_text() -> None:
    abated = {"resourceType": "Condition", "id": "c1", "abatementDateTime": "2020-01-01",
              "code": {"coding": [{"system": "http://snomed.info/sct", "code": "77386006"}]}}
    words = {"resourceType": "Condition", "id": "c2", "code": {"text": "pregnant, 12 weeks"}}
    nothing = {"resourceType": "Condition", "id": "c3", "code": {"coding": [{"system": "urn:local", "code": "x"}]}}
    patient = patient_view(abated, words, nothing)
    assert patient.request["conditions"] == [
        {"code": "77386006", "system": "http://snomed.info/sct", "status": "resolved"},
        {"text": "pregnant, 12 weeks", "status": "active"}]
    assert any("no ICD-10 or SNOMED CT code" in note for note in patient.notes)


def test_an_egfr_of_25_is_a_lab_the_renal_rule_reads(evaluator: Evaluator) -> None:
    observation = {"resourceType": "Observation", "id": "o1", "status": "final",
                   "code": {"coding": [{"system": LOINC, "code": "62238-1"}]},
                   "valueQuantity": {"value": 25, "unit": "mL/min/1.73m2", "system": UCUM, "code": "mL/min/{1.73_m2}"},
                   "effectiveDateTime": "2026-11-01T08:30:00+01:00"}
    patient = patient_view(observation)
    assert patient.request["labs"] == [{"code": "62238-1", "value": 25, "unit": "mL/min/{1.73_m2}",
                                        "date": "2026-11-01T08:30:00+01:00"}]
    result = evaluate(evaluator, patient, {"text": "LDN 1.5 mg at bedtime"})
    assert [(lab["analyte"], lab["value"]) for lab in result["understood"]["labs"]] == [("egfr", 25)]
    assert "LDN-REN-001" in [a["rule"] for a in result["alerts"]]


@pytest.mark.parametrize("value, result", [
    ({"valueCodeableConcept": {"coding": [{"system": LOINC, "code": "LA15173-0", "display": "Pregnant"}]}}, "pregnant"),
    ({"valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "77386006",
                                           "display": "Patient currently pregnant"}]}}, "pregnant"),
    ({"valueCodeableConcept": {"text": "Pregnant"}}, "Pregnant"),
    ({"valueString": "pregnant"}, "pregnant"),
])
def test_a_pregnancy_status_observation_makes_the_patient_pregnant(value: dict[str, Any], result: str,
                                                                   evaluator: Evaluator) -> None:
    observation = {"resourceType": "Observation", "id": "o2", "status": "final",
                   "code": {"coding": [{"system": LOINC, "code": "82810-3", "display": "Pregnancy status"}]},
                   "effectivePeriod": {"start": "2026-11-20"}, **value}
    patient = patient_view(observation)
    assert patient.request["labs"] == [{"code": "82810-3", "result": result, "date": "2026-11-20"}]
    understood = evaluate(evaluator, patient, {"text": "LDN 1.5 mg at bedtime"})["understood"]["patient"]
    assert understood["pregnancy"] == "pregnant"


def test_a_negative_hcg_is_a_result_with_its_issued_date() -> None:
    observation = {"resourceType": "Observation", "id": "o3", "status": "final",
                   "code": {"coding": [{"system": LOINC, "code": "2106-3"}]},
                   "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": "260385009"}]},
                   "issued": "2026-11-20T10:00:00Z"}
    assert patient_view(observation).request["labs"] == [{"code": "2106-3", "result": "negative",
                                                          "date": "2026-11-20T10:00:00Z"}]


@pytest.mark.parametrize("change, why", [
    ({"status": "entered-in-error"}, "entered-in-error"),
    ({"status": "cancelled"}, "cancelled"),
    ({"code": {"coding": [{"system": "urn:local", "code": "egfr"}], "text": "eGFR"}}, "no LOINC"),
    ({"effectiveDateTime": "2026-11"}, "no full date"),
    ({"valueQuantity": None, "dataAbsentReason": {"text": "not done"}}, "dataAbsentReason"),
])
def test_observations_that_cannot_be_used_are_said(change: dict[str, Any], why: str) -> None:
    observation = {"resourceType": "Observation", "id": "o1", "status": "final",
                   "code": {"coding": [{"system": LOINC, "code": "62238-1"}]},
                   "valueQuantity": {"value": 25, "unit": "mL/min/1.73m2"}, "effectiveDateTime": "2026-11-01"}
    observation.update(change)
    observation = {k: v for k, v in observation.items() if v is not None}
    patient = patient_view(observation)
    assert patient.request["labs"] == []
    assert any(why in note for note in patient.notes), patient.notes


def test_a_reference_range_upper_limit_in_the_same_unit_is_kept() -> None:
    observation = {"resourceType": "Observation", "id": "o1", "status": "final",
                   "code": {"coding": [{"system": LOINC, "code": "1742-6"}]},
                   "valueQuantity": {"value": 90, "unit": "U/L", "system": UCUM, "code": "U/L"},
                   "referenceRange": [{"high": {"value": 33, "unit": "U/L", "system": UCUM, "code": "U/L"}}],
                   "effectiveDateTime": "2026-11-01"}
    assert patient_view(observation).request["labs"] == [{"code": "1742-6", "value": 90, "unit": "U/L",
                                                          "date": "2026-11-01", "referenceHigh": 33}]


@pytest.mark.parametrize("born, expected", [("1980-05-01", "1980-05-01"), ("1980-05", None), ("1980", None)])
def test_a_partial_birth_date_is_left_out_and_said(born: str, expected: str | None, evaluator: Evaluator) -> None:
    patient = read_hook("patient-view", {"patientId": "Patient/p1"},
                        {"patient": {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": born}})
    assert patient.request["patient"].get("birthDate") == expected
    assert patient.request["patient"]["sex"] == "female"
    if expected is None:
        assert any("birthDate is a partial date" in note for note in patient.notes)
        assert evaluate(evaluator, patient)["understood"]["patient"].get("age_years") is None


def test_the_patient_named_by_the_context_is_read_when_several_are_sent() -> None:
    patient = read_hook("patient-view", {"patientId": "p2"}, {
        "a": {"resourceType": "Patient", "id": "p1", "gender": "male"},
        "b": bundle({"resourceType": "Patient", "id": "p2", "gender": "female"})})
    assert patient.request["patient"] == {"sex": "female"}
    assert any("2 Patient resources" in note for note in patient.notes)


# ---- medication statuses, timing and dosage ---------------------------------------------------------------
@pytest.mark.parametrize("status, expected", [
    ("active", "active"), ("draft", "active"), ("on-hold", "on-hold"), ("completed", "stopped"),
    ("stopped", "stopped"), ("cancelled", "stopped"), ("unknown", "unknown"), ("entered-in-error", None),
])
def test_medication_request_statuses(status: str, expected: str | None) -> None:
    resource = med_request("m1", code="7804", display="oxycodone", status=status,
                           dosageInstruction=[{"text": "5 mg q6h"}],
                           dispenseRequest={"validityPeriod": {"start": "2026-10-01", "end": "2026-11-01"}})
    patient = patient_view(resource)
    if expected is None:
        assert patient.request["medications"] == []
        assert any("entered in error" in note for note in patient.notes)
        return
    (entry,) = patient.request["medications"]
    assert entry["status"] == expected
    assert entry.get("end") == ("2026-11-01" if expected == "stopped" else None)
    EVALUATE_REQUEST.load({**patient.request, "evaluationTime": NOW})


@pytest.mark.parametrize("status, expected, end", [
    ("active", "active", None), ("intended", "active", None), ("on-hold", "on-hold", None),
    ("completed", "stopped", "2026-11-10"), ("stopped", "stopped", "2026-11-10"), ("unknown", "unknown", None),
    ("not-taken", None, None), ("entered-in-error", None, None), ("taking", "unknown", None),
])
def test_medication_statement_statuses(status: str, expected: str | None, end: str | None) -> None:
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": status,
                 "medicationCodeableConcept": {"coding": [{"system": "urn:oid:2.16.840.1.113883.6.88",
                                                           "code": "7804", "display": "oxycodone"}]},
                 "effectivePeriod": {"start": "2026-10-01", "end": "2026-11-10"}}
    patient = patient_view(statement)
    if expected is None:
        assert patient.request["medications"] == []
        return
    (entry,) = patient.request["medications"]
    assert (entry["code"], entry["system"], entry["status"], entry.get("end")) == ("7804", RXNORM, expected, end)
    assert entry["start"] == "2026-10-01"


def test_an_end_before_the_start_keeps_the_end() -> None:
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": "stopped",
                 "medicationCodeableConcept": {"text": "methadone 60 mg daily"},
                 "effectivePeriod": {"start": "2026-11-10", "end": "2026-11-01"}}
    patient = patient_view(statement)
    assert patient.request["medications"] == [{"text": "methadone 60 mg daily", "status": "stopped",
                                               "end": "2026-11-01"}]
    assert any("end before start" in note for note in patient.notes)
    EVALUATE_REQUEST.load({**patient.request, "evaluationTime": NOW})


def test_proposals_and_do_not_perform_requests_are_not_medications() -> None:
    proposal = med_request("m1", code="7804", status="active", intent="proposal")
    refused = med_request("m2", code="7804", status="active", doNotPerform=True)
    statement = {"resourceType": "MedicationStatement", "id": "s1", "status": "not-taken",
                 "medicationCodeableConcept": {"text": "oxycodone"}}
    patient = patient_view(proposal, refused, statement)
    assert patient.request["medications"] == []
    assert len([n for n in patient.notes if "not used" in n]) == 3


@pytest.mark.parametrize("timing, expected, per_day", [
    ({"repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}}, "once daily", 1),
    ({"repeat": {"frequency": 2, "period": 1, "periodUnit": "d"}}, "twice daily", 2),
    ({"repeat": {"frequency": 3, "period": 1.0, "periodUnit": "d"}}, "three times daily", 3),
    ({"repeat": {"frequency": 6, "period": 1, "periodUnit": "d"}}, "6 times a day", 6),
    ({"repeat": {"frequency": 1, "period": 6, "periodUnit": "h"}}, "every 6 hours", 4),
    ({"repeat": {"period": 8, "periodUnit": "h"}}, "every 8 hours", 3),
    ({"repeat": {"frequency": 1, "period": 1.5, "periodUnit": "d"}}, "every 1.5 days", 1 / 1.5),
    ({"repeat": {"frequency": 1, "period": 30, "periodUnit": "min"}}, "every 0.5 hours", 48),
    ({"repeat": {"frequency": 1, "period": 4, "periodMax": 6, "periodUnit": "h"}}, "every 4-6 hours", 6),
    ({"repeat": {"frequency": 1, "period": 3, "periodUnit": "d"}}, "every 3 days", 1 / 3),
    ({"repeat": {"frequency": 1, "period": 1, "periodUnit": "wk"}}, "weekly", 1 / 7),
    ({"repeat": {"frequency": 2, "period": 1, "periodUnit": "wk"}}, "2 times a week", 2 / 7),
    ({"repeat": {"frequency": 1, "period": 2, "periodUnit": "wk"}}, "every 2 weeks", 1 / 14),
    ({"repeat": {"frequency": 2, "period": 3, "periodUnit": "d"}}, "every 36 hours", 2 / 3),
    ({"repeat": {"frequency": 1, "frequencyMax": 2, "period": 1, "periodUnit": "d"}}, "twice daily", 2),
    ({"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "when": ["HS"]}}, "once daily at bedtime", 1),
    ({"repeat": {"frequency": 1, "period": 1, "periodUnit": "d", "timeOfDay": ["21:00:00"]}},
     "once daily in the evening", 1),
    ({"repeat": {"when": ["MORN", "HS"]}}, "twice daily", 2),
    ({"repeat": {"dayOfWeek": ["mon", "wed", "fri"]}}, "3 times a week", 3 / 7),
    ({"code": {"coding": [{"code": "BID"}]}}, "twice daily", 2),
    ({"code": {"coding": [{"code": "QD"}]}}, "once daily", 1),
    ({"code": {"coding": [{"code": "Q6H"}]}}, "every 6 hours", 4),
    ({"code": {"coding": [{"code": "HS"}]}}, "at bedtime", 1),
    ({"code": {"coding": [{"code": "QOD"}]}}, "every other day", 0.5),
    ({"code": {"coding": [{"code": "AM"}]}}, "once daily in the morning", 1),
    ({"code": {"coding": [{"code": "PM"}]}}, "once daily in the afternoon", 1),
    ({"code": {"coding": [{"code": "BED"}]}, "repeat": {"frequency": 1, "period": 1, "periodUnit": "d"}},
     "once daily at bedtime", 1),
    ({"code": {"text": "every 72 hours"}}, "every 72 hours", 1 / 3),
])
def test_timing_becomes_a_frequency_the_service_reads(timing: dict[str, Any], expected: str, per_day: float,
                                                      evaluator: Evaluator) -> None:
    resource = med_request(dosage={"timing": timing, "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "mg"}}]})
    (order,) = order_select(resource).draft_orders
    assert order.entry["frequency"] == expected
    read = evaluator.normalizer.medications.sigs.frequency(expected)[0]
    assert read == pytest.approx(per_day, rel=1e-4)


def test_as_needed_is_appended_to_the_frequency(evaluator: Evaluator) -> None:
    resource = med_request("m1", code="7804", display="oxycodone", status="active",
                           dosageInstruction=[{"timing": {"repeat": {"frequency": 1, "period": 4, "periodUnit": "h"}},
                                               "asNeededBoolean": True,
                                               "doseAndRate": [{"doseQuantity": {"value": 5, "unit": "mg"}}]}])
    (entry,) = patient_view(resource).request["medications"]
    assert entry["frequency"] == "every 4 hours as needed"
    understood = evaluate(evaluator, patient_view(resource))["understood"]["medications"][0]
    assert understood["asNeeded"] is True and understood["ingredients"][0]["dailyDoseMg"] == pytest.approx(30.0)


def test_unstructured_dosage_goes_into_the_text_with_the_code() -> None:
    with_name = med_request("m1", code="7804", display="oxycodone", status="active",
                            dosageInstruction=[{"text": "5 mg q6h prn"}])
    named_in_sig = med_request("m2", code="7804", display="oxycodone", status="active",
                               dosageInstruction=[{"text": "Oxycodone 5 mg q6h prn"}])
    no_dosage = med_request("m3", code="1049621", display="oxycodone hydrochloride 5 MG Oral Tablet", status="active")
    no_code = med_request("m4", code=None, status="active",
                          medicationCodeableConcept={"coding": [{"system": "http://hl7.org/fhir/sid/ndc",
                                                                 "code": "0406-0552-01", "display": "Oxycodone 5 mg"}]})
    medications = patient_view(with_name, named_in_sig, no_dosage, no_code).request["medications"]
    assert [(m.get("text"), m.get("code")) for m in medications] == [
        ("oxycodone 5 mg q6h prn", "7804"),
        ("Oxycodone 5 mg q6h prn", "7804"),
        ("oxycodone hydrochloride 5 MG Oral Tablet", "1049621"),
        ("Oxycodone 5 mg", None),
    ]


def test_several_dosage_instructions_are_read_together_from_their_texts() -> None:
    resource = med_request(status="active", dosageInstruction=[
        {"text": "1 mg in the morning", "doseAndRate": [{"doseQuantity": {"value": 1, "unit": "mg"}}]},
        {"text": "3 mg at bedtime", "doseAndRate": [{"doseQuantity": {"value": 3, "unit": "mg"}}]}])
    (entry,) = patient_view(resource).request["medications"]
    assert entry["text"] == "naltrexone 1 mg in the morning; 3 mg at bedtime" and "dose" not in entry


def test_dose_units_and_ranges() -> None:
    def dose(quantity: dict[str, Any], key: str = "doseQuantity") -> Any:
        resource = med_request(dosage={"timing": {"code": {"coding": [{"code": "QD"}]}},
                                       "doseAndRate": [{key: quantity}]})
        return order_select(resource).draft_orders[0].entry.get("dose")

    assert dose({"value": 1, "unit": "tablet", "system": UCUM, "code": "{tablet}"}) == {"value": 1, "unit": "tablet"}
    assert dose({"value": 1, "system": UCUM, "code": "{capsule}"}) == {"value": 1, "unit": "capsule"}
    assert dose({"value": 250, "unit": "microgram", "system": UCUM, "code": "ug"}) == {"value": 250, "unit": "ug"}
    assert dose({"value": 1, "unit": "tab", "system": "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm",
                 "code": "TAB"}) == {"value": 1, "unit": "tab"}
    assert dose({"low": {"value": 1, "unit": "mg"}, "high": {"value": 2, "unit": "mg"}}, "doseRange") == \
        {"value": 2, "unit": "mg"}
    assert dose({"value": 0, "unit": "mg"}) is None
    assert dose({"value": "4.5", "unit": "mg"}) is None


# ---- envelope shapes ----------------------------------------------------------------------------------------
def test_resources_in_several_prefetch_entries_are_read_once_and_the_draft_is_not_a_medication() -> None:
    draft = med_request("d1", dosage={"text": "1.5 mg at bedtime"})
    oxycodone = med_request("m1", code="7804", display="oxycodone", status="active",
                            dosageInstruction=[{"text": "5 mg q6h"}])
    prefetch = {"active": bundle(oxycodone, dict(draft, status="active")),
                "all": bundle(oxycodone), "one": {"response": {"status": "200 OK"}, "resource": oxycodone},
                "missing": None}
    patient = order_select(draft, prefetch)
    assert codes(patient.request["medications"]) == ["7804"]
    assert [d.resource_id for d in patient.draft_orders] == ["d1"]


def test_unknown_and_unused_resource_types_are_tolerated_with_a_note() -> None:
    allergy = {"resourceType": "AllergyIntolerance", "id": "a1", "code": {"text": "penicillin"}}
    prefetch = {"things": bundle(allergy, dict(allergy, id="a2"), {"resourceType": "Flux", "id": "x"},
                                 {"resourceType": "OperationOutcome", "issue": []}),
                "failed": {"resourceType": "OperationOutcome", "issue": []},
                "odd": {"response": {"status": "404 Not Found"}}}
    patient = read_hook("patient-view", {"patientId": "p1"}, prefetch)
    assert patient.request == {"patient": {}, "medications": [], "conditions": [], "labs": []}
    notes = " | ".join(patient.notes)
    assert "2 AllergyIntolerance resources in prefetch not used" in notes
    assert "1 Flux resource in prefetch not used" in notes
    assert "prefetch.failed: an OperationOutcome" in notes and "prefetch.odd: not a FHIR resource" in notes
    assert "penicillin" not in notes  # notes name paths and types, not clinical values


def test_notes_about_skipped_medications_do_not_repeat_their_names() -> None:
    resource = med_request("m1", code="7804", display="oxycodone", status="entered-in-error")
    patient = patient_view(resource)
    assert patient.notes and all("oxycodone" not in note for note in patient.notes)


@pytest.mark.parametrize("context, prefetch, path", [
    ({"draftOrders": []}, {}, "context.draftOrders: must be a Bundle or a resource"),
    ({"draftOrders": "MedicationRequest/1"}, {}, "context.draftOrders: must be a Bundle or a resource"),
    ({"draftOrders": {"entry": []}}, {}, "context.draftOrders: must be a Bundle or a resource"),
    ({"draftOrders": {"resourceType": "Bundle", "entry": {}}}, {}, "context.draftOrders.entry: must be an array"),
    ({"draftOrders": {"resourceType": "Bundle", "entry": [7]}}, {}, "context.draftOrders.entry[0]: must be an object"),
    ({"selections": {"a": 1}}, {}, "context.selections: must be an array of references"),
    ({}, {"patient": "Patient/1"}, "prefetch.patient: must be a Bundle or a resource"),
    ({}, [], "prefetch: must be an object"),
    ([], {}, "context: must be an object"),
])
def test_structurally_unusable_input_is_a_fhir_error_naming_the_path(context: Any, prefetch: Any, path: str) -> None:
    with pytest.raises(FhirError) as raised:
        read_hook("order-select", context, prefetch)
    assert str(raised.value) == path
    assert isinstance(raised.value, ValueError)


def test_draft_orders_are_not_read_in_patient_view() -> None:
    draft = med_request("d1", dosage={"text": "1.5 mg at bedtime"})
    patient = read_hook("patient-view", {"patientId": "p1", "draftOrders": bundle(draft)}, {})
    assert patient.draft_orders == ()


def test_an_unresolved_medication_reference_uses_its_display_or_is_kept_to_be_reported() -> None:
    shown = med_request("m1", code=None, status="active",
                        medicationReference={"reference": "Medication/nowhere", "display": "Naltrexone 4.5 mg caps"},
                        dosageInstruction=[{"text": "1 cap at bedtime"}])
    hidden = med_request("m2", code=None, status="active", medicationReference={"reference": "Medication/nowhere"})
    patient = patient_view(shown, hidden)
    assert patient.request["medications"] == [
        {"text": "Naltrexone 4.5 mg caps 1 cap at bedtime", "status": "active", "start": "2026-11-23"},
        # No display: kept by its reference, so the service reports it as not recognised (LDN-DQ-001).
        {"text": "medication Medication/nowhere not sent with the request", "status": "active", "start": "2026-11-23"}]
    assert any("medicationReference not found" in note for note in patient.notes)


def test_too_many_medications_keep_the_current_ones_within_the_schema_limit() -> None:
    stopped = [med_request(f"s{i}", code="7804", status="stopped", dosageInstruction=[{"text": "5 mg q6h"}])
               for i in range(MAX_MEDICATIONS)]
    active = med_request("a1", code="7243", status="active", dosageInstruction=[{"text": "4.5 mg at bedtime"}])
    patient = patient_view(*stopped, active)
    medications = patient.request["medications"]
    assert len(medications) == MAX_MEDICATIONS and medications[-1]["code"] == "7243"
    EVALUATE_REQUEST.load({**patient.request, "evaluationTime": NOW})
    assert any("the 200 most relevant" in note for note in patient.notes)


def test_clip_to_drops_labs_and_a_birth_date_after_the_evaluation_time() -> None:
    request = {"patient": {"sex": "female", "birthDate": "2027-01-01"},
               "labs": [{"code": "62238-1", "value": 25, "date": "2026-11-24"},
                        {"code": "62238-1", "value": 40, "date": "2026-11-01T10:00:00+02:00"}]}
    original = copy.deepcopy(request)
    clipped, notes = clip_to(request, datetime(2026, 11, 23, 9, tzinfo=timezone.utc))
    assert clipped == {"patient": {"sex": "female"}, "labs": [request["labs"][1]]}
    assert len(notes) == 2 and all("LOINC 62238-1" in n or "birthDate" in n for n in notes)
    assert request == original  # the request given is not changed
    EVALUATE_REQUEST.load({**clipped, "evaluationTime": "2026-11-23T09:00:00Z"})
