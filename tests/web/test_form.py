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


def test_an_empty_form_is_a_record_without_an_order_checked_today(evaluator: Evaluator) -> None:
    check = read(evaluator)
    assert "order" not in check.request
    assert check.request["patient"]["sex"] == "unknown"
    assert check.request["patient"]["pregnancy"] == {"status": "unknown"}
    assert check.as_of == TODAY and check.request["evaluationTime"].date() == TODAY


def test_birth_date_instead_of_age(evaluator: Evaluator) -> None:
    assert read(evaluator, birth_date="1980-05-01").request["patient"]["birthDate"] == date(1980, 5, 1)


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
    ({"years_on_opioids": "101"}, "years_on_opioids", "0 to 100"),
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
    found = errors(evaluator, **form)
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
