"""Alerts as a user reads them: merged per rule, ordered by severity, bounded summaries."""

from __future__ import annotations

from cds.alerts import SEVERITY_ORDER
from cds.rulebook import SUMMARY_LIMIT
from cds.schemas import EVALUATE_REQUEST
from cds.service import Evaluator


def evaluate(evaluator: Evaluator, **request) -> list[dict]:
    body = EVALUATE_REQUEST.load({"evaluationTime": "2026-11-23T09:00:00Z", **request})
    return evaluator.evaluate(body).to_dict()["alerts"]


def test_two_opioids_give_one_conflict_alert_naming_both(evaluator: Evaluator) -> None:
    alerts = evaluate(evaluator, order={"text": "LDN 1.5 mg qhs"},
                      medications=[{"text": "oxycodone 5 mg q6h"}, {"text": "morphine 15 mg bid"}])
    [conflict] = [a for a in alerts if a["rule"] == "LDN-OPI-001"]
    names = {fact["name"] for fact in conflict["matched"] if fact["as"] == "medication"}
    assert names == {"oxycodone 5 mg q6h", "morphine 15 mg bid"}
    assert "oxycodone 5 mg q6h" in conflict["detail"] and "morphine 15 mg bid" in conflict["detail"]
    assert [fact["as"] for fact in conflict["matched"]].count("order") == 1


def test_alerts_come_most_severe_first(evaluator: Evaluator) -> None:
    alerts = evaluate(evaluator, patient={"sex": "female", "age": 30}, order={"text": "LDN 4.5 mg qhs"},
                      medications=[{"text": "oxycodone 5 mg q6h"}, {"text": "Zorblax 1 mg daily"}])
    ranks = [SEVERITY_ORDER[a["severity"]] for a in alerts]
    assert ranks == sorted(ranks) and ranks[0] == 0


def test_summaries_stay_within_the_card_limit_however_many_facts_match(evaluator: Evaluator) -> None:
    medications = [{"text": f"oxycodone {n} mg q6h"} for n in range(1, 30)]
    alerts = evaluate(evaluator, order={"text": "LDN 4.5 mg qhs"}, medications=medications)
    assert all(len(alert["summary"]) <= SUMMARY_LIMIT for alert in alerts)
    assert any(alert["summary"].endswith("…") for alert in alerts)


def test_an_alert_says_what_matched_why_what_to_do_and_where_from(evaluator: Evaluator) -> None:
    [alert] = evaluate(evaluator, patient={"sex": "male", "age": 50},
                       order={"text": "LDN 1 mg qhs"}, labs=[{"code": "98979-8", "value": 22, "unit": "mL/min/1.73m2",
                                                             "date": "2026-11-01"}])
    assert alert["rule"] == "LDN-REN-001"
    assert alert["summary"] == "eGFR 22 on 2026-11-01: severe kidney impairment, naltrexone not studied; consult first"
    assert alert["parameters"]["severe_egfr_below"] == {"value": 30.0, "unit": "mL/min/1.73m2"}
    assert {"as": "lab", "analyte": "egfr", "value": 22.0, "date": "2026-11-01"}.items() <= alert["matched"][1].items()
    assert alert["suggestions"][0]["label"].startswith("Consult")
    assert {source["id"] for source in alert["sources"]} == {"label-naltrexone", "seed:004", "design"}


def test_a_patient_with_nothing_to_flag_gets_no_alerts(evaluator: Evaluator) -> None:
    assert evaluate(evaluator, patient={"sex": "male", "age": 60}, order={"text": "LDN 1.5 mg qhs"},
                    medications=[{"text": "metformin 500 mg bid"}]) == []


def test_matched_facts_in_words_for_cards_and_the_page() -> None:
    from cds.alerts import matched_in_words
    stopped = {"fact": "medication", "name": "tramadol 50mg bid", "ingredient": "tramadol", "dose": "100 mg a day",
               "status": "stopped", "days_since_stopped": 3}
    assert matched_in_words(stopped) == "tramadol 50mg bid (tramadol, 100 mg a day; stopped 3 days ago)"
    problem = {"fact": "problem", "subject": "medications[2] 'xyz'", "reason": "not recognised"}
    assert matched_in_words(problem) == "medications[2] 'xyz': not recognised"
    assert matched_in_words(problem, lambda text: text.replace("medications[2]", "line 3")) == \
        "line 3 'xyz': not recognised"
