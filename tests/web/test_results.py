"""An evaluation as the page shows it (cds/web/results.py): cards, understood lines, the plan."""

from __future__ import annotations

from datetime import date

from cds.alerts import SEVERITY_ORDER
from cds.service import Evaluator
from cds.web import results
from cds.web.form import read_form

TODAY = date(2026, 11, 23)


def shown(evaluator: Evaluator, **form: str) -> results.Results:
    check = read_form({"as_of": TODAY.isoformat(), **form}, evaluator.terminology, TODAY)
    return results.build(evaluator.evaluate(check.request), check)


def line(found: results.Results, written: str) -> results.UnderstoodLine:
    return next(line for line in found.lines if line.written == written)


def test_cards_are_ordered_by_severity_with_every_section(evaluator: Evaluator) -> None:
    found = shown(evaluator, sex="female", age="30", order="LDN 4.5 mg at bedtime",
                  medications="Percocet 5/325 1 q6h prn\nNarcan kit\nZorblax 10 mg")
    severities = [card.severity for card in found.cards]
    assert severities == sorted(severities, key=SEVERITY_ORDER.__getitem__)
    assert {"critical", "warning", "info"} <= set(severities)
    opioid = found.cards[0]
    assert (opioid.rule, opioid.severity_label) == ("LDN-OPI-001", "Critical")
    assert opioid.matched == ("LDN 4.5 mg at bedtime (naltrexone, 4.5 mg a day at bedtime; ordered)",
                              "Percocet 5/325 1 q6h prn (oxycodone, up to 20 mg a day as needed; active)")
    assert opioid.rationale and opioid.todo and any(source.url for source in opioid.sources)
    assert found.count("critical") == 1


def test_each_line_says_how_it_was_understood(evaluator: Evaluator) -> None:
    found = shown(evaluator, order="naltrexone 1 mg twice daily", order_purpose="uldn",
                  medications="Percocet 5/325 1 q6h prn\nZorblax 10 mg\ntramadol 50mg bid; stopped 2026-11-18\n"
                              "oxycodone 5 at bedtime\nEmbeda 30/1.2 mg 1 capsule twice daily")
    assert [line.where for line in found.lines] == ["order", "line 1", "line 2", "line 3", "line 4", "line 5"]

    order = line(found, "naltrexone 1 mg twice daily")
    assert order.daily_dose == "naltrexone 2 mg/day"
    assert "stated purpose ULDN" in order.reading and "does not match" in order.reading

    percocet = line(found, "Percocet 5/325 1 q6h prn")
    assert (percocet.ingredients, percocet.classes) == ("oxycodone, acetaminophen", "opioid-agonist")
    assert percocet.daily_dose.startswith("oxycodone up to 20 mg/day as needed")

    unknown = line(found, "Zorblax 10 mg")
    assert not unknown.understood and unknown.daily_dose.startswith("not understood: not a medication")

    stopped = line(found, "tramadol 50mg bid; stopped 2026-11-18")
    assert stopped.daily_dose == "tramadol 100 mg/day" and stopped.reading == "stopped 2026-11-18"

    no_unit = line(found, "oxycodone 5 at bedtime")
    assert not no_unit.understood and "oxycodone: dose not understood" in no_unit.daily_dose
    assert "no unit is given" in no_unit.daily_dose

    embeda = line(found, "Embeda 30/1.2 mg 1 capsule twice daily")
    assert "naltrexone: not counted" in embeda.daily_dose and "naltrexone" not in embeda.classes


def test_request_paths_are_said_in_the_forms_words(evaluator: Evaluator) -> None:
    found = shown(evaluator, order="LDN 1.5 mg", medications="oxycodone 5 mg q6h; stopped 2026-11-01\nZorblax 10 mg")
    quality = next(card for card in found.cards if card.rule == "LDN-DQ-001")
    assert "medication line 2 'Zorblax 10 mg'" in quality.summary
    assert "medications[" not in " ".join((quality.summary, quality.detail, *quality.matched))


def test_conditions_labs_and_what_no_rule_uses(evaluator: Evaluator) -> None:
    found = shown(evaluator, order="LDN 1.5 mg", conditions="K74.60\nback pain\ncirrhosis; resolved",
                  alt="30", alt_date="2026-11-01")
    assert found.conditions == (("K74.60", "cirrhosis (active)"), ("back pain", "not a condition any rule uses"),
                                ("cirrhosis", "cirrhosis (resolved)"))
    assert found.labs == ("ALT: 30 U/L on 2026-11-01",)


def test_a_uldn_order_with_an_opioid_shows_the_taper(evaluator: Evaluator) -> None:
    found = shown(evaluator, order="naltrexone 1 mcg twice daily", order_purpose="uldn",
                  medications="oxycodone 10 mg every 6 hours", years_on_opioids="2")
    plan = found.plan
    assert plan is not None and plan.kind == "taper" and plan.rule == "LDN-OPI-006" and plan.unavailable is None
    assert "10% a month" in plan.heading and "2 years, as given on the form" in plan.heading
    assert plan.columns == ("step", "date", "doses", "MME/day", "% of start", "note")
    assert plan.rows[0][:2] == ("0", "2026-11-23") and plan.rows[0][3] == "60" and plan.rows[-1][3] == "0"
    assert plan.chart is not None and len(plan.chart.markers) == len(plan.rows)
    assert any("ULDN" in note or "µg" in note for note in plan.notes)


def test_less_than_a_year_of_opioids_tapers_weekly(evaluator: Evaluator) -> None:
    found = shown(evaluator, order="ULDN 1 mcg twice daily", medications="oxycodone 10 mg every 6 hours",
                  years_on_opioids="0.5")
    assert found.plan is not None and "10% a week" in found.plan.heading


def test_a_taper_without_an_opioid_dose_says_why_there_is_no_schedule(evaluator: Evaluator) -> None:
    found = shown(evaluator, order="ULDN 1 mcg twice daily", medications="tramadol")
    assert found.plan is not None and found.plan.kind == "taper" and not found.plan.rows
    assert found.plan.unavailable and found.plan.chart is None


def test_an_ldn_start_above_the_start_dose_shows_the_titration(evaluator: Evaluator) -> None:
    found = shown(evaluator, order="LDN 4.5 mg at bedtime")
    plan = found.plan
    assert plan is not None and plan.kind == "titration" and plan.rule == "LDN-TIT-001"
    assert [row[3] for row in plan.rows] == ["1.5 mg", "3 mg", "4.5 mg"]
    assert plan.chart is not None and plan.chart.y_label == "mg/day"


def test_no_plan_without_a_taper_or_titration_alert(evaluator: Evaluator) -> None:
    assert shown(evaluator, order="LDN 1.5 mg at bedtime").plan is None
