"""The page at / and the catalogue at /rules through the Flask test client (cds/web/views.py and its
templates), checked against the DOM contract the browser tests also rely on."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient
from page_html import Element, parse

from cds.logs import JsonFormatter
from cds.opioid_safety import OpioidSafety
from cds.service import Evaluator

AS_OF = "2026-11-23"
FIELDS = ["age", "birth_date", "sex", "pregnancy", "lactation", "order", "order_purpose", "medications", "conditions",
          "alt", "alt_unit", "alt_date", "ast", "ast_unit", "ast_date", "bilirubin", "bilirubin_unit",
          "bilirubin_date", "egfr", "egfr_unit", "egfr_date", "creatinine", "creatinine_unit", "creatinine_date",
          "hcg", "hcg_date", "urine_opioids", "urine_opioids_date", "years_on_opioids", "as_of"]
LABELS = {"critical": "Critical", "warning": "Warning", "info": "Info"}
ORDER = {"critical": 0, "warning": 1, "info": 2}


def post(client: FlaskClient, status: int = 200, **form: str) -> Element:
    response = client.post("/", data={"as_of": AS_OF, **form})
    assert response.status_code == status, response.get_data(as_text=True)[:3000]
    return parse(response.get_data(as_text=True))


def cards(page: Element) -> list[Element]:
    return page.by_id("results").find_all("article", "alert-card")


def card(page: Element, rule: str) -> Element:
    [found] = [c for c in cards(page) if c.attrs["data-rule"] == rule]
    return found


def understood(page: Element) -> dict[str, dict[str, str]]:
    rows = page.by_id("understood").find_all("tr", "understood-line")
    return {row.find("td", "written").text: {name: row.find("td", name).text
                                             for name in ("ingredients", "classes", "daily-dose", "reading")}
            for row in rows}


def test_the_form_renders_every_field_with_its_label(client: FlaskClient) -> None:
    response = client.get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    page = parse(response.get_data(as_text=True))
    assert page.find("html").attrs["lang"] == "en"
    form = page.by_id("check-form")
    assert (form.tag, form.attrs["method"], form.attrs["action"]) == ("form", "post", "/")
    for name in FIELDS:
        control = form.by_id(name)
        assert control is not None and control.attrs["name"] == name, name
        label = next((e for e in form.find_all("label") if e.attrs.get("for") == name), None)
        assert label is not None and label.text, f"#{name} has no <label for>"
    assert form.by_id("medications").tag == "textarea" and form.by_id("conditions").tag == "textarea"
    for name, default in (("sex", "unknown"), ("pregnancy", "unknown"), ("lactation", "unknown"), ("hcg", "")):
        [selected] = [o for o in form.by_id(name).find_all("option") if "selected" in o.attrs] or [
            form.by_id(name).find("option")]
        assert selected.attrs["value"] == default, name
    assert [o.attrs["value"] for o in form.by_id("order_purpose").find_all("option")] == [
        "", "ldn", "uldn", "vldn", "standard"]
    assert form.by_id("as_of").attrs["value"] == datetime.now(UTC).date().isoformat()
    assert form.by_id("egfr_unit").attrs["value"] == "mL/min/1.73m2"
    age = form.by_id("age")  # text, not number: the browser would drop "52 years" or read "25,5" as 255
    assert (age.attrs["type"], age.attrs["inputmode"]) == ("text", "numeric")
    assert form.by_id("alt_date").attrs["type"] == "date"
    assert "placeholder" in form.by_id("medications").attrs and "placeholder" in form.by_id("order").attrs
    button = page.by_id("check-button")
    assert (button.tag, button.attrs["type"], button.text) == ("button", "submit", "Check")
    assert page.by_id("results") is None and page.by_id("error-summary") is None
    assert "Recommendation 11" in page.find("main").text  # the pack that needs FHIR is not part of this check


def test_a_valid_post_shows_the_cards_in_severity_order_with_their_sections(client: FlaskClient) -> None:
    page = post(client, sex="female", age="30", order="LDN 4.5 mg at bedtime",
                medications="Percocet 5/325 1 q6h prn\nZorblax 10 mg\nNarcan kit")
    found = cards(page)
    severities = [c.attrs["data-severity"] for c in found]
    assert severities == sorted(severities, key=ORDER.__getitem__) and len(set(severities)) == 3
    for each in found:
        severity = each.attrs["data-severity"]
        assert f"severity-{severity}" in each.classes
        assert each.find(cls="severity-label").text == LABELS[severity]
        assert each.find("h3", "alert-summary").text
        for section in ("matched", "why", "todo", "sources"):
            assert each.find(cls=section) is not None and each.find(cls=section).text, (each.attrs, section)
    assert page.by_id("no-alerts") is None
    assert page.by_id("print-button").attrs["type"] == "button"
    assert page.by_id("copy-button").attrs["type"] == "button"
    assert page.by_id("copy-status").attrs["aria-live"] == "polite"


def test_opioid_conflict(client: FlaskClient) -> None:
    page = post(client, age="52", sex="male", order="naltrexone 4.5 mg at bedtime",
                medications="Percocet 5/325 1 q6h prn")
    first = cards(page)[0]
    assert (first.attrs["data-rule"], first.attrs["data-severity"]) == ("LDN-OPI-001", "critical")
    assert any(a.attrs["href"].startswith("https://") for a in first.find(cls="sources").find_all("a"))
    lines = understood(page)
    assert set(lines) == {"naltrexone 4.5 mg at bedtime", "Percocet 5/325 1 q6h prn"}
    percocet = lines["Percocet 5/325 1 q6h prn"]
    assert percocet["ingredients"] == "oxycodone, acetaminophen" and percocet["classes"] == "opioid-agonist"
    assert percocet["daily-dose"].startswith("oxycodone up to 20 mg/day")
    record = page.by_id("record-text").text
    assert "LDN-OPI-001" in record and "Percocet 5/325 1 q6h prn" in record and "[CRITICAL]" in record


def test_pregnancy_status_unknown(client: FlaskClient) -> None:
    page = post(client, age="30", sex="female", pregnancy="unknown", order="LDN 1.5 mg at bedtime")
    assert card(page, "LDN-PREG-002").attrs["data-severity"] == "info"
    assert "not documented" in card(page, "LDN-PREG-002").find(cls="matched").text


def test_renal_egfr_25(client: FlaskClient) -> None:
    page = post(client, age="60", sex="male", order="LDN 1.5 mg at bedtime", egfr="25", egfr_date="2026-11-13")
    renal = card(page, "LDN-REN-001")
    assert renal.attrs["data-severity"] == "warning"
    assert "eGFR 25 mL/min/1.73m2 on 2026-11-13" in renal.find(cls="matched").text


def test_uldn_with_oxycodone_shows_the_taper_plan_table_and_chart(client: FlaskClient) -> None:
    page = post(client, age="60", sex="male", order="naltrexone 1 mcg twice daily", order_purpose="uldn",
                medications="oxycodone 10 mg every 6 hours", years_on_opioids="2")
    assert card(page, "LDN-OPI-006")
    plan = page.by_id("plan")
    assert plan.attrs["data-kind"] == "taper"
    steps = plan.find("table", "plan-table").find_all("tr", "plan-step")
    assert len(steps) >= 2 and steps[0].find_all("td")[1].text == AS_OF
    chart = plan.by_id("plan-chart")
    assert chart.tag == "svg" and chart.attrs["role"] == "img" and chart.attrs["aria-labelledby"] == "plan-chart-title"
    assert chart.by_id("plan-chart-title").tag == "title" and "MME" in chart.by_id("plan-chart-title").text
    assert chart.find("path", "series") is not None
    texts = [t.text for t in chart.find_all("text")]
    assert AS_OF in texts and "MME/day" in texts and "date" in texts  # axes labelled with dates and values
    assert "as given on the form" in plan.find("h3").text
    assert "Taper" in page.by_id("record-text").text


def test_a_new_ldn_start_shows_the_titration(client: FlaskClient) -> None:
    page = post(client, age="60", sex="male", order="LDN 4.5 mg at bedtime")
    plan = page.by_id("plan")
    assert plan.attrs["data-kind"] == "titration"
    assert len(plan.find_all("tr", "plan-step")) == 3 and plan.by_id("plan-chart") is not None


def test_a_stopped_opioid_line_raises_the_washout_rule(client: FlaskClient) -> None:
    page = post(client, age="45", sex="male", order="LDN 1.5 mg at bedtime",
                medications="tramadol 50mg bid; stopped 5 days ago")
    washout = card(page, "LDN-WASH-001")
    assert "stopped 5 days ago" in washout.text
    assert [c.attrs["data-rule"] for c in cards(page)] == ["LDN-WASH-001"]  # not an active-opioid conflict
    assert understood(page)["tramadol 50mg bid; stopped 5 days ago"]["reading"] == "stopped 2026-11-18"


def test_no_alerts(client: FlaskClient) -> None:
    page = post(client, age="45", sex="male", order="LDN 1.5 mg at bedtime")
    assert not cards(page) and page.by_id("no-alerts").text
    assert page.by_id("plan") is None


def test_an_unreadable_drug_is_not_a_validation_error(client: FlaskClient) -> None:
    page = post(client, age="45", sex="male", order="LDN 1.5 mg at bedtime", medications="Zorblax 10 mg daily")
    assert card(page, "LDN-DQ-001").attrs["data-severity"] == "warning"
    row = page.by_id("understood").find("tr", "not-understood")
    assert row.find("td", "written").text == "Zorblax 10 mg daily"
    assert row.find("td", "daily-dose").text.startswith("not understood")


def test_invalid_age_gives_400_with_the_message_next_to_the_field_and_in_the_summary(client: FlaskClient) -> None:
    typed = {"age": "-3", "sex": "female", "order": "LDN 1.5 mg at bedtime",
             "medications": "tramadol 50mg bid\nNarcan kit"}
    page = post(client, 400, **typed)
    summary = page.by_id("error-summary")
    assert summary.attrs["role"] == "alert"
    [link] = summary.find_all("a")
    assert link.attrs["href"] == "#age" and "0 to 130" in link.text
    age = page.by_id("age")
    error = age.next_element()
    assert error is page.by_id("age-error") and "field-error" in error.classes and "0 to 130" in error.text
    assert age.attrs["aria-invalid"] == "true" and age.attrs["aria-describedby"] == "age-error"
    # the form keeps what was typed
    assert age.attrs["value"] == "-3" and page.by_id("order").attrs["value"] == "LDN 1.5 mg at bedtime"
    assert page.by_id("medications").text == "tramadol 50mg bid Narcan kit"
    assert [o.attrs["value"] for o in page.by_id("sex").find_all("option") if "selected" in o.attrs] == ["female"]
    assert page.by_id("results") is None
    assert page.by_id("order").attrs.get("aria-invalid") is None


def test_errors_of_lines_and_labs_are_next_to_their_fields(client: FlaskClient) -> None:
    page = post(client, 400, medications="oxycodone 5 mg q6h\noxycodone; stopped last week", egfr="25",
                egfr_date="2026-12-01")
    assert page.by_id("medications-error").text.startswith("Error: line 2:")
    assert page.by_id("medications").attrs["aria-describedby"] == "medications-hint medications-error"
    assert [a.attrs["href"] for a in page.by_id("error-summary").find_all("a")] == ["#medications"]
    page = post(client, 400, egfr="25", egfr_date="2026-12-01", order="LDN 1.5 mg at bedtime")  # after the as-of date
    assert "after the 'as of' date" in page.by_id("egfr_date-error").text
    assert [a.text.split(":")[0] for a in page.by_id("error-summary").find_all("a")] == ["eGFR date"]


def test_ids_are_unique_on_every_page(client: FlaskClient) -> None:
    answers = [client.get("/"), client.get("/rules"), client.post("/", data={"as_of": AS_OF, "age": "-1"}),
               client.post("/", data={"as_of": AS_OF, "order": "ULDN 1 mcg twice daily", "age": "50",
                                      "medications": "oxycodone 10 mg every 6 hours\nZorblax", "conditions": "K74.60"})]
    for response in answers:
        ids = [e.attrs["id"] for e in parse(response.get_data(as_text=True)).walk() if "id" in e.attrs]
        assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_what_is_typed_is_escaped(client: FlaskClient) -> None:
    response = client.post("/", data={"as_of": AS_OF, "order": "LDN 1.5 mg <script>alert(1)</script>",
                                      "medications": "<img src=x onerror=alert(1)> 10 mg"})
    assert b"<script>alert(1)" not in response.data and b"<img src=x" not in response.data


def test_pages_are_not_cached_and_run_only_their_own_script(client: FlaskClient) -> None:
    for response in (client.get("/"), client.post("/", data={"as_of": AS_OF}), client.get("/rules")):
        assert response.headers["Cache-Control"] == "no-store"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"
    for asset in ("/static/web.css", "/static/web.js"):
        with client.get(asset) as response:  # a file response: closed, or its file is left open
            assert response.status_code == 200


@pytest.fixture()
def logged(app: Flask, caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    # cds logs do not propagate to the root logger: caplog's handler goes on the app's logger too
    app.logger.addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    yield caplog
    app.logger.removeHandler(caplog.handler)


def test_nothing_from_the_form_is_logged(client: FlaskClient, logged: pytest.LogCaptureFixture) -> None:
    typed = {"age": "67", "sex": "female", "birth_date": "", "order": "naltrexone 4.5 mg qhs Zebediah",
             "medications": "Percocet 5/325 1 q6h prn\nQuixotril 20 mg", "conditions": "K74.60 Pemberton cirrhosis",
             "alt": "173.25", "alt_date": "2026-10-31", "years_on_opioids": "7.625", "as_of": AS_OF}
    client.post("/", data=typed)
    client.post("/", data={**typed, "age": "-999"})
    assert logged.records, "the request log line is missing"
    # what a log line holds: the message and the extra fields (not the timing, the time and the random id)
    entries = [json.loads(JsonFormatter().format(record)) for record in logged.records]
    text = logged.text + json.dumps([{k: v for k, v in entry.items() if k not in ("time", "ms", "request_id")}
                                     for entry in entries])
    for value in ("Zebediah", "Percocet", "Quixotril", "Pemberton", "K74.60", "173.25", "2026-10-31", "7.625",
                  "-999", "female"):
        assert value not in text, value
    assert {entry.get("path") for entry in entries if entry["message"] == "request"} == {"/"}


def test_the_rules_page_lists_every_rule_of_both_rulebooks_with_its_scenarios(
        client: FlaskClient, evaluator: Evaluator, opioid_safety: OpioidSafety) -> None:
    response = client.get("/rules")
    assert response.status_code == 200
    page = parse(response.get_data(as_text=True))
    articles = {a.attrs["data-rule"]: a for a in page.find_all("article", "rule")}
    rules = [*evaluator.rulebook.rules, *opioid_safety.rulebook.rules]
    assert set(articles) == {rule.id for rule in rules}
    for rule in rules:
        article = articles[rule.id]
        assert article.attrs["id"] == f"rule-{rule.id}" and rule.id in article.find("h3").text
        assert article.find(cls="severity-label").text == LABELS[rule.severity]
        assert len(article.find(cls="rule-conditions").find_all("li")) == len(rule.conditions_in_words)
        assert len(article.find(cls="rule-thresholds").find_all("li")) == len(rule.parameters)
        sources = article.find(cls="rule-sources")
        assert len(sources.find_all("li")) == len(rule.sources)
        assert len(sources.find_all("a")) == sum(1 for s in rule.sources if s.url)
        scenarios = article.find(cls="rule-scenarios").find_all("details", "scenario")
        assert scenarios, f"{rule.id} has no scenario"
        assert all(s.find("summary").text and s.find("ol").find_all("li") for s in scenarios)
        assert any(a.attrs["href"] == f"/v1/rules/{rule.id}" for a in article.find_all("a"))
    index = page.by_id("categories")
    assert index.find("a").attrs["href"] == "#category-opioid-conflict"
    assert articles["CDC-REC11-001"].find("table", "examples") is not None  # Examples rows as a table


def test_the_rule_page_people_open_shows_its_scenarios(client: FlaskClient) -> None:
    response = client.get("/v1/rules/LDN-WASH-004", headers={"Accept": "text/html"})
    page = parse(response.get_data(as_text=True))
    assert page.find(cls="rule-scenarios").find_all("details", "scenario")
    assert any(a.attrs["href"] == "/rules#rule-LDN-WASH-004" for a in page.find_all("a"))


# ---- the review's findings -------------------------------------------------------------------
def raw_record(client: FlaskClient, **form: str) -> str:
    import html
    import re as regex
    response = client.post("/", data={"as_of": AS_OF, **form})
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    found = regex.search(r'<pre id="record-text"[^>]*>(.*?)</pre>', response.get_data(as_text=True), regex.DOTALL)
    assert found is not None
    return html.unescape(found[1])


@pytest.mark.parametrize(("as_of", "form"), [
    ("9999-06-01", {"order": "naltrexone 1 mcg bid", "order_purpose": "uldn", "medications": "oxycodone 10 mg q6h"}),
    ("9999-12-01", {"order": "LDN 4.5 mg at bedtime"}),
])
def test_an_as_of_date_late_in_year_9999_is_a_field_error_not_a_500(client: FlaskClient, as_of: str,
                                                                    form: dict) -> None:
    page = post(client, 400, **{**form, "as_of": as_of})
    assert "Enter a date from 1900-01-01 to" in page.by_id("as_of-error").text


def test_numbers_are_typed_as_text_and_read_on_the_server(client: FlaskClient) -> None:
    form = parse(client.get("/").get_data(as_text=True)).by_id("check-form")
    for name in ("age", "alt", "ast", "bilirubin", "egfr", "creatinine", "years_on_opioids"):
        control = form.by_id(name)
        assert control.attrs["type"] == "text" and control.attrs["inputmode"] in ("decimal", "numeric"), name
    page = post(client, 400, age="52 years", order="LDN 1.5 mg at bedtime")
    assert "whole years, e.g. 52" in page.by_id("age-error").text and page.by_id("age").attrs["value"] == "52 years"
    page = post(client, age="60", sex="male", order="LDN 1.5 mg at bedtime", egfr="25,5", egfr_date="2026-11-13")
    assert "eGFR 25.5 mL/min/1.73m2" in card(page, "LDN-REN-001").find(cls="matched").text


def test_a_refill_under_review_has_a_checkbox_and_gets_no_titration(client: FlaskClient) -> None:
    form = parse(client.get("/").get_data(as_text=True)).by_id("check-form")
    box = form.by_id("order_review")
    assert box.attrs["type"] == "checkbox" and box.attrs["name"] == "order_review"
    assert "refill" in next(e for e in form.find_all("label") if e.attrs.get("for") == "order_review").text
    new = post(client, age="60", sex="male", order="LDN 4.5 mg at bedtime")
    assert card(new, "LDN-TIT-001")
    refill = post(client, age="60", sex="male", order="LDN 4.5 mg at bedtime", order_review="on")
    assert "LDN-TIT-001" not in [c.attrs["data-rule"] for c in cards(refill)]
    assert "checked" in refill.by_id("order_review").attrs
    assert "under review" in refill.by_id("record-text").text


def test_an_empty_post_is_an_error_on_the_order(client: FlaskClient) -> None:
    page = post(client, 400)
    assert "at least one medication line" in page.by_id("order-error").text
    assert page.by_id("no-alerts") is None


def test_an_oversized_form_is_the_page_with_a_message_not_json(client: FlaskClient) -> None:
    response = client.post("/", data={"as_of": AS_OF, "medications": "oxycodone 5 mg q6h\n" * 60_000})
    assert response.status_code == 413 and response.mimetype == "text/html"
    page = parse(response.get_data(as_text=True))
    assert "larger than the limit" in page.by_id("error-summary").text and page.by_id("check-form") is not None


def test_a_field_in_error_keeps_its_hint_in_aria_describedby(client: FlaskClient) -> None:
    page = post(client, 400, medications="oxycodone stopped 3 days ago")
    assert page.by_id("medications").attrs["aria-describedby"] == "medications-hint medications-error"
    assert page.by_id("medications-hint") is not None and "'; stopped 3 days ago'" in page.by_id("medications-error").text
    assert post(client, 400, age="-1").by_id("age").attrs["aria-describedby"] == "age-error"  # no hint


def test_the_form_is_not_autocompleted_and_the_as_of_date_is_marked_as_a_default(client: FlaskClient) -> None:
    form = parse(client.get("/").get_data(as_text=True)).by_id("check-form")
    assert form.attrs["autocomplete"] == "off"
    assert "data-default-today" in form.by_id("as_of").attrs and "data-max-today" in form.by_id("alt_date").attrs
    typed = post(client, 400, age="-1")
    assert "data-default-today" not in typed.by_id("as_of").attrs  # what was typed is kept


def test_the_disclaimers_are_printed(client: FlaskClient, app: Flask) -> None:
    page = post(client, age="60", sex="male", order="naltrexone 1 mcg twice daily", order_purpose="uldn",
                medications="oxycodone 10 mg every 6 hours")
    assert "Decision support, not a decision" in page.by_id("results").find(cls="print-disclaimer").text
    assert "not an order" in page.by_id("plan").find(cls="plan-disclaimer").text
    from pathlib import Path
    css = (Path(app.static_folder or "") / "web.css").read_text(encoding="utf-8")
    printed = css[css.index("@media print"):]
    assert ".print-disclaimer, .plan-disclaimer { display: block !important" in printed
    [hidden] = [rule for rule in printed.splitlines() if "display: none !important" in rule]
    assert "#check-form" in hidden and ".hint" in hidden  # the hint class is hidden, the disclaimers are not hints
    assert "disclaimer" not in hidden


def test_the_record_says_what_the_alerts_were_based_on(client: FlaskClient) -> None:
    record = raw_record(client, age="60", sex="female", pregnancy="not-pregnant", lactation="lactating",
                        order="LDN 1.5 mg at bedtime", conditions="K74.60\nI10 hypertension",
                        egfr="25", egfr_date="2026-11-13")
    assert "Patient: age 60 years, sex female, pregnancy not-pregnant, lactation lactating" in record
    assert "Conditions, as understood:\n  K74.60 -> cirrhosis of the liver (active)" in record
    assert "I10 hypertension -> not a condition any rule uses" in record
    assert "Labs, as understood:\n  eGFR" in record and "on 2026-11-13" in record
    assert "Decision support, not a decision" in record
    assert "Patient: born 1966-01-02" in raw_record(client, birth_date="1966-01-02", order="LDN 1.5 mg at bedtime")


def test_conditions_are_shown_by_name_not_by_slug(client: FlaskClient) -> None:
    page = post(client, age="60", sex="male", order="LDN 1.5 mg at bedtime", conditions="K74.60 cirrhosis\nZ99.2")
    other = page.find("ul", "understood-other").text
    assert "Condition K74.60 cirrhosis: cirrhosis of the liver (active)" in other
    assert "Condition Z99.2: dependence on renal dialysis (active)" in other
    assert "ckd" not in other and "-" not in other.split(":", 1)[1].split("(")[0]
