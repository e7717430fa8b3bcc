"""The check form → the JSON API's evaluation request, and errors back on the form (cds/web/form.py)."""

from __future__ import annotations

from datetime import date

import pytest

from cds.schemas import EVALUATE_REQUEST
from cds.service import Evaluator
from cds.web.form import LAB_FIELDS, FormError, LabField, loinc_code, read_form
from cds.web.form import _field_for as field_for

TODAY = date(2026, 11, 23)


def read(evaluator: Evaluator, **form: str):
    return read_form(form, evaluator.terminology, TODAY)


def errors(evaluator: Evaluator, **form: str) -> dict[str, str]:
    with pytest.raises(FormError) as raised:
        read(evaluator, **form)
    return raised.value.errors


def test_a_full_form_becomes_exactly_the_evaluation_request(evaluator: Evaluator) -> None:
    check = read(evaluator, age="52", sex="female", pregnancy="not-pregnant", lactation="unknown",
                 order="naltrexone 1 mcg twice daily", order_purpose="uldn",
                 medications="Percocet 5/325 1 q6h prn\n\ntramadol 50mg bid; stopped 2026-11-18\nNarcan kit",
                 conditions="K74.60\nkidney transplant; resolved", alt="30", alt_date="2026-11-10",
                 alt_unit="IU/L", egfr="25", egfr_date="2026-11-13", egfr_unit="", hcg="negative",
                 hcg_date="2026-11-20", years_on_opioids="2.5", as_of="2026-11-23", submit="Check")
    t = evaluator.terminology
    assert check.request == EVALUATE_REQUEST.load({
        "evaluationTime": "2026-11-23",
        "patient": {"age": 52, "sex": "female", "pregnancy": {"status": "not-pregnant"},
                    "lactation": {"status": "unknown"}},
        "order": {"text": "naltrexone 1 mcg twice daily", "purpose": "uldn"},
        "medications": [{"text": "Percocet 5/325 1 q6h prn"},
                        {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-18"},
                        {"text": "Narcan kit"}],
        "conditions": [{"code": "K74.60"}, {"text": "kidney transplant", "status": "resolved"}],
        "labs": [{"code": loinc_code(t, "alt"), "value": 30, "unit": "IU/L", "date": "2026-11-10"},
                 {"code": loinc_code(t, "egfr"), "value": 25, "unit": t.analytes["egfr"].unit, "date": "2026-11-13"},
                 {"code": loinc_code(t, "hcg"), "result": "negative", "date": "2026-11-20"}],
    })
    assert check.as_of == date(2026, 11, 23) and check.years_on_opioids == 2.5
    # where each medication went in the request, and its line on the form (blank lines count)
    assert [(line.source, line.number) for line in check.medications] == [
        ("medications[0]", 1), ("medications[1]", 3), ("medications[2]", 4)]


def test_a_list_without_an_order_is_checked_today(evaluator: Evaluator) -> None:
    check = read(evaluator, medications="oxycodone 5 mg q6h")
    assert "order" not in check.request
    assert check.request["patient"]["sex"] == "unknown"
    assert check.request["patient"]["pregnancy"] == {"status": "unknown"}
    assert check.as_of == TODAY and check.request["evaluationTime"].date() == TODAY


def test_birth_date_instead_of_age(evaluator: Evaluator) -> None:
    assert read(evaluator, birth_date="1980-05-01", order="LDN 1.5 mg at bedtime").request["patient"]["birthDate"] == date(1980, 5, 1)


@pytest.mark.parametrize("lab", LAB_FIELDS, ids=lambda lab: lab.name)
def test_each_lab_is_sent_with_a_loinc_code_the_terminology_reads_as_it(evaluator: Evaluator, lab: LabField) -> None:
    analyte = evaluator.terminology.analytes[lab.analyte]
    assert analyte.qualitative == lab.qualitative
    code = loinc_code(evaluator.terminology, lab.analyte)
    assert evaluator.terminology.analyte_for_loinc(code) is analyte


@pytest.mark.parametrize(("form", "field", "words"), [
    ({"age": "-3"}, "age", "from 0 to 130"),
    ({"age": "131"}, "age", "from 0 to 130"),
    ({"age": "forty"}, "age", "whole years"),
    ({"age": "4.5"}, "age", "whole years"),
    ({"age": "50", "birth_date": "1970-01-01"}, "age", "not both"),
    ({"birth_date": "01/02/1970"}, "birth_date", "YYYY-MM-DD"),
    ({"sex": "robot"}, "sex", "Choose one of"),
    ({"pregnancy": "maybe"}, "pregnancy", "Choose one of"),
    ({"order": "x" * 501}, "order", "At most 500"),
    ({"order_purpose": "uldn"}, "order_purpose", "the order this purpose is for"),
    ({"order": "LDN 1 mg", "order_purpose": "micro"}, "order_purpose", "Choose one of"),
    ({"alt": "30"}, "alt_date", "date of this result"),
    ({"alt_date": "2026-11-01"}, "alt", "Give the result"),
    ({"alt": "-1", "alt_date": "2026-11-01"}, "alt", "0 or more"),
    ({"egfr": "nan", "egfr_date": "2026-11-01"}, "egfr", "Enter a number"),
    ({"hcg": "maybe", "hcg_date": "2026-11-01"}, "hcg", "positive or negative"),
    ({"years_on_opioids": "81"}, "years_on_opioids", "0 to 80"),
    ({"as_of": "tomorrow"}, "as_of", "YYYY-MM-DD"),
])
def test_the_forms_own_errors_name_the_field(evaluator: Evaluator, form: dict, field: str, words: str) -> None:
    found = errors(evaluator, **form)
    assert words in found[field], found


def test_a_medication_line_that_cannot_be_read_is_reported_by_its_line_number(evaluator: Evaluator) -> None:
    found = errors(evaluator, medications="Percocet 5/325 1 q6h prn\n\noxycodone; stopped last week", age="-3")
    assert found["medications"].startswith("line 3: ")
    assert "age" in found  # every error at once: a bad age does not hide a bad line


def test_too_many_lines(evaluator: Evaluator) -> None:
    assert "At most 200 lines" in errors(evaluator, medications="\n".join(["oxycodone 5 mg q6h"] * 201))["medications"]


@pytest.mark.parametrize(("form", "field", "words"), [
    # errors of the evaluation request (EVALUATE_REQUEST), mapped back to the field they came from
    ({"medications": "oxycodone 5 mg\n\n" + "a" * 501}, "medications", "line 3: Length must be between 1 and 500"),
    ({"conditions": "K74.60\n" + "b" * 501}, "conditions", "line 2: Length"),
    ({"medications": "oxycodone 5 mg; started 2026-11-20; stopped 2026-11-01"}, "medications",
     "line 1: The stop date is before the start date"),
    ({"egfr": "25", "egfr_date": "2026-12-01", "as_of": "2026-11-23"}, "egfr_date",
     "after the 'as of' date (2026-11-23)"),
    ({"birth_date": "2027-01-01", "as_of": "2026-11-23"}, "birth_date", "after the 'as of' date"),
])
def test_request_errors_come_back_on_their_field(evaluator: Evaluator, form: dict, field: str, words: str) -> None:
    found = errors(evaluator, **{"order": "LDN 1.5 mg at bedtime", **form})
    assert words in found[field], found
    assert "form" not in found


def test_request_paths_map_to_form_fields() -> None:
    from cds.web.form import Line
    origins = {"medications": [Line("medications[0]", 2, "a"), Line("medications[1]", 5, "b")], "conditions": []}
    labs = [LAB_FIELDS[0], LAB_FIELDS[3]]
    assert field_for("patient.age", origins, labs) == ("age", "")
    assert field_for("patient.birthDate", origins, labs) == ("birth_date", "")
    assert field_for("patient.pregnancy.status", origins, labs) == ("pregnancy", "")
    assert field_for("patient.lactation.evidence", origins, labs) == ("lactation", "")
    assert field_for("order.text", origins, labs) == ("order", "")
    assert field_for("order.purpose", origins, labs) == ("order_purpose", "")
    assert field_for("medications[1].dose.unit", origins, labs) == ("medications", "line 5: ")
    assert field_for("medications", origins, labs) == ("medications", "")
    assert field_for("labs[1].value", origins, labs) == ("egfr", "")
    assert field_for("labs[1].date", origins, labs) == ("egfr_date", "")
    assert field_for("evaluationTime", origins, labs) == ("as_of", "")
    assert field_for("body", origins, labs) == ("form", "")


def test_unreadable_drugs_are_not_validation_errors(evaluator: Evaluator) -> None:
    # they are shown as not understood and raise a data-quality alert (tests/web/test_views.py)
    assert read(evaluator, medications="Zorblax 10 mg daily").request["medications"][0]["text"] == "Zorblax 10 mg daily"


# ---- the review's findings ---------------------------------------------------------------------
@pytest.mark.parametrize(("as_of", "ok"), [
    ("9999-06-01", False), ("9999-12-01", False), ("1899-12-31", False), ("2027-11-24", True), ("2027-11-25", False),
    ("1900-01-01", True),
])
def test_the_as_of_date_is_bounded_from_1900_to_a_year_ahead(evaluator: Evaluator, as_of: str, ok: bool) -> None:
    form = {"order": "LDN 4.5 mg at bedtime", "as_of": as_of}
    if ok:
        assert read(evaluator, **form).as_of == date.fromisoformat(as_of)
    else:
        assert "Enter a date from 1900-01-01 to 2027-11-24" in errors(evaluator, **form)["as_of"]


@pytest.mark.parametrize(("form", "field", "value"), [
    ({"egfr": "25,5", "egfr_date": "2026-11-13"}, "egfr", 25.5),
    ({"egfr": " 25.5 ", "egfr_date": "2026-11-13"}, "egfr", 25.5),
    ({"bilirubin": ",5", "bilirubin_date": "2026-11-13"}, "bilirubin", 0.5),
    ({"years_on_opioids": "0,5"}, "years_on_opioids", 0.5),
    ({"age": "52"}, "age", 52),
    ({"age": "52,0"}, "age", 52),
])
def test_numbers_take_a_decimal_comma(evaluator: Evaluator, form: dict, field: str, value: float) -> None:
    check = read(evaluator, order="LDN 1.5 mg at bedtime", **form)
    if field == "years_on_opioids":
        assert check.years_on_opioids == value
    elif field == "age":
        assert check.request["patient"]["age"] == value
    else:
        [lab] = check.request["labs"]
        assert lab["value"] == value


@pytest.mark.parametrize(("form", "field", "words"), [
    ({"age": "52 years"}, "age", "as a number of whole years, e.g. 52"),
    ({"egfr": "25 ml/min", "egfr_date": "2026-11-13"}, "egfr", "Enter a number, e.g. 25.5"),
    ({"egfr": "1e2", "egfr_date": "2026-11-13"}, "egfr", "Enter a number, e.g. 25.5"),
    ({"egfr": "25.5.1", "egfr_date": "2026-11-13"}, "egfr", "Enter a number, e.g. 25.5"),
    ({"alt": "1,250", "alt_date": "2026-11-13"}, "alt", "without the comma (1250) or with a decimal point (1.250)"),
    ({"years_on_opioids": "half a year"}, "years_on_opioids", "Enter a number of years"),
    ({"egfr": "201", "egfr_date": "2026-11-13"}, "egfr", "from 0 to 200 mL/min/1.73m2"),
    ({"alt": "10001", "alt_date": "2026-11-13"}, "alt", "from 0 to 10,000 U/L"),
    ({"ast": "20000", "ast_date": "2026-11-13"}, "ast", "from 0 to 10,000 U/L"),
    ({"bilirubin": "61", "bilirubin_date": "2026-11-13"}, "bilirubin", "from 0 to 60 mg/dL"),
    ({"bilirubin": "1100", "bilirubin_unit": "µmol/L", "bilirubin_date": "2026-11-13"}, "bilirubin",
     "from 0 to 1,026 µmol/L"),
    ({"creatinine": "41", "creatinine_date": "2026-11-13"}, "creatinine", "from 0 to 40 mg/dL"),
    ({"years_on_opioids": "80.5"}, "years_on_opioids", "0 to 80"),
])
def test_numbers_that_are_not_numbers_or_not_plausible_are_field_errors(evaluator: Evaluator, form: dict, field: str,
                                                                        words: str) -> None:
    found = errors(evaluator, order="LDN 1.5 mg at bedtime", **form)
    assert words in found[field], found


def test_plausible_values_in_another_unit_are_accepted(evaluator: Evaluator) -> None:
    check = read(evaluator, order="LDN 1.5 mg at bedtime", creatinine="800", creatinine_unit="µmol/L",
                 creatinine_date="2026-11-13")
    assert check.request["labs"][0]["value"] == 800


def test_a_refill_under_review_is_sent_as_order_review(evaluator: Evaluator) -> None:
    check = read(evaluator, order="LDN 4.5 mg at bedtime", order_review="on")
    assert check.request["order"]["review"] is True
    assert read(evaluator, order="LDN 4.5 mg at bedtime").request["order"]["review"] is False
    assert "the order being reviewed" in errors(evaluator, order_review="on", medications="x")["order_review"]


def test_pairs_are_checked_even_when_another_field_is_in_error(evaluator: Evaluator) -> None:
    found = errors(evaluator, age="forty", alt="30", order_purpose="uldn", medications="oxycodone 5 mg q6h",
                   egfr_date="2026-11-01")
    assert "whole years" in found["age"]
    assert "date of this result" in found["alt_date"]
    assert "the order this purpose is for" in found["order_purpose"]
    assert "Give the result" in found["egfr"]
    both = errors(evaluator, age="50", birth_date="1970-13-01", order="LDN 1 mg")
    assert "YYYY-MM-DD" in both["birth_date"] and "not both" in both["age"]


@pytest.mark.parametrize("form", [{}, {"age": "50"}, {"medications": " \n \n", "conditions": "K74.60"}])
def test_an_order_or_a_medication_line_is_required(evaluator: Evaluator, form: dict) -> None:
    assert "Give the naltrexone order, or at least one medication line" in errors(evaluator, **form)["order"]


def test_control_and_format_characters_are_removed_from_lines(evaluator: Evaluator) -> None:
    check = read(evaluator, medications="tra\u200bmadol 50mg\u0007 bid\u202e\r\nNarcan\tkit\ufeff",
                 conditions="K74.60\u200d cirrhosis\x00")
    assert [m["text"] for m in check.request["medications"]] == ["tramadol 50mg bid", "Narcan\tkit"]
    assert [(c["code"], c["text"]) for c in check.request["conditions"]] == [("K74.60", "cirrhosis")]
