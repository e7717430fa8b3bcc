"""The check form: its fields (a marshmallow schema at the boundary), the evaluation request they
become, and every error, the form's own or the evaluation request's, mapped back to its field.

The request is exactly the JSON API's (`cds.schemas.EVALUATE_REQUEST` validates it too):
medication lines → `{"text": line}` (with `status`, `start`, `end` from "; stopped ..." and
"; started ..."), condition lines → `{"code": ...}` or `{"text": ...}`, labs → their LOINC code from
the terminology, the order → `{"text": order, "purpose": ...}`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    pre_load,
    validate,
)

from ..model import LACTATION, PREGNANCY, PURPOSES, SEX
from ..schemas import (
    EVALUATE_REQUEST,
    MAX_AGE,
    MAX_CONDITIONS,
    MAX_MEDICATIONS,
    flatten_errors,
)
from ..terminology import Terminology
from . import lines

RESULTS = ("positive", "negative")  # what the qualitative tests' selects offer
MAX_YEARS_ON_OPIOIDS = 80
MAX_TEXT = 20_000  # characters in one textarea (200 lines of a medication list, and then some)
EARLIEST_AS_OF = date(1900, 1, 1)  # the 'as of' date: from here to a year after today (plans are dated from it)
AS_OF_AHEAD = timedelta(days=366)
NOT_A_NUMBER = "Enter a number, e.g. 25.5."


class FormNumber(fields.Float):
    """A number as a person types it in a text box: digits with an optional decimal point or
    decimal comma ("25.5", "25,5"). Anything else ("52 years", "1e3", "nan", "1,000.5") is an
    error, never a guess. `whole`: only whole numbers."""

    _WRITTEN = re.compile(r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)$")
    _THOUSANDS = re.compile(r"^[+-]?0*[1-9]\d{0,2},\d{3}$")  # "1,250": a thousand and more, or 1.25?

    def __init__(self, *, whole: bool = False, invalid: str = NOT_A_NUMBER, **kwargs: Any) -> None:
        super().__init__(allow_nan=False, error_messages={"invalid": invalid, "special": invalid}, **kwargs)
        self.whole = whole

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, str):
            written = value.strip()
            if not self._WRITTEN.match(written):
                raise self.make_error("invalid")
            if self._THOUSANDS.match(written):
                raise ValidationError(f"Is {written!r} a thousand and more, or a decimal? Write it without the comma "
                                      f"({written.replace(',', '')}) or with a decimal point "
                                      f"({written.replace(',', '.')}).")
            value = written.replace(",", ".")
        number = super()._deserialize(value, attr, data, **kwargs)
        if self.whole:
            if number != int(number):
                raise self.make_error("invalid")
            return int(number)
        return number


@dataclass(frozen=True, slots=True)
class LabField:
    """A lab on the form: `name` holds the value (or the result), `name_date` its date, `name_unit`
    its unit (quantitative tests only). `analyte` is the terminology's key for it. `most`: the
    largest plausible value in the analyte's own unit (a bigger one is a typing slip)."""

    name: str
    analyte: str
    qualitative: bool = False
    most: float | None = None

    @property
    def date_name(self) -> str:
        return f"{self.name}_date"

    @property
    def unit_name(self) -> str:
        return f"{self.name}_unit"


LAB_FIELDS = (
    LabField("alt", "alt", most=10_000),  # U/L
    LabField("ast", "ast", most=10_000),  # U/L
    LabField("bilirubin", "bilirubin", most=60),  # mg/dL (about 1,000 µmol/L)
    LabField("egfr", "egfr", most=200),  # mL/min/1.73m2
    LabField("creatinine", "creatinine", most=40),  # mg/dL (about 3,500 µmol/L)
    LabField("hcg", "hcg", qualitative=True),
    LabField("urine_opioids", "urine-opioid-screen", qualitative=True),
)


def _date_field() -> fields.Date:
    return fields.Date(error_messages={"invalid": "Enter a date as YYYY-MM-DD."})


def _lab_fields() -> dict[str, fields.Field]:
    found: dict[str, fields.Field] = {}
    for lab in LAB_FIELDS:
        if lab.qualitative:
            found[lab.name] = fields.String(validate=validate.OneOf(RESULTS, error="Choose positive or negative."))
        else:
            found[lab.name] = FormNumber(validate=validate.Range(min=0, error="Enter 0 or more."))
            found[lab.unit_name] = fields.String(validate=validate.Length(max=40, error="At most 40 characters."))
        found[lab.date_name] = _date_field()
    return found


def _choice(choices: tuple[str, ...], default: str | None = None) -> fields.String:
    checked = validate.OneOf(choices, error=f"Choose one of: {', '.join(choices)}.")
    return fields.String(validate=checked, load_default=default) if default else fields.String(validate=checked)


def _text(limit: int) -> fields.String:
    return fields.String(validate=validate.Length(max=limit, error=f"At most {limit:,} characters."))


class CheckForm(Schema.from_dict(_lab_fields(), name="LabFields")):  # type: ignore[misc]
    """What the page's form sends; every field optional (an empty field is a missing one)."""

    class Meta:
        unknown = EXCLUDE  # the submit button and anything a browser adds

    age = FormNumber(whole=True, invalid="Enter the age as a number of whole years, e.g. 52.",
                     validate=validate.Range(min=0, max=MAX_AGE, error=f"Enter an age from 0 to {MAX_AGE} years."))
    birth_date = _date_field()
    sex = _choice(SEX, "unknown")
    pregnancy = _choice(PREGNANCY, "unknown")
    lactation = _choice(LACTATION, "unknown")
    order = _text(500)
    order_purpose = _choice(PURPOSES)
    order_review = fields.Boolean(error_messages={"invalid": "Tick the box or leave it empty."})
    medications = _text(MAX_TEXT)
    conditions = _text(MAX_TEXT)
    years_on_opioids = FormNumber(
        invalid="Enter a number of years, e.g. 3 or 0.5.",
        validate=validate.Range(min=0, max=MAX_YEARS_ON_OPIOIDS, error=f"Enter 0 to {MAX_YEARS_ON_OPIOIDS} years."))
    as_of = _date_field()

    @pre_load
    def _blank_is_missing(self, data: Mapping[str, Any], **_: Any) -> dict[str, Any]:
        return {key: value.strip() for key, value in data.items() if isinstance(value, str) and value.strip()}



def _together(present: set[str]) -> dict[str, str]:
    """Errors of fields that go in pairs, from what was filled in (all of them, whatever else is wrong:
    marshmallow's own schema validators are skipped when a field is in error)."""
    errors: dict[str, str] = {}
    if {"age", "birth_date"} <= present:
        errors["age"] = "Give the age or the birth date, not both."
    if "order" not in present:
        if "order_purpose" in present:
            errors["order_purpose"] = "Give the order this purpose is for."
        if "order_review" in present:
            errors["order_review"] = "Give the order being reviewed."
        if "medications" not in present:
            errors["order"] = "Give the naltrexone order, or at least one medication line to check."
    for lab in LAB_FIELDS:
        if lab.name in present and lab.date_name not in present:
            errors[lab.date_name] = "Give the date of this result."
        elif lab.date_name in present and lab.name not in present:
            errors[lab.name] = "Give the result, or clear its date."
    return errors


def _plausible(lab: LabField, value: float, unit: str | None, terminology: Terminology) -> str | None:
    """Why a lab value is not plausible in its unit, or None. A unit the terminology cannot convert
    is not bounded here (the evaluation reports it)."""
    if lab.most is None:
        return None
    analyte = terminology.analytes[lab.analyte]
    unit = (unit or analyte.unit or "").strip()
    same = unit.lower() == (analyte.unit or "").lower() or unit.lower() in analyte.accepts
    factor = 1.0 if same else analyte.convert.get(unit.lower())
    if not factor:
        return None
    most = lab.most / factor
    if value > most:
        return f"Enter a value from 0 to {most:,.0f} {unit}; check the number and its unit."
    return None


CHECK_FORM = CheckForm()


@dataclass(frozen=True, slots=True)
class Line:
    """A non-blank line of a textarea: where it went in the request, and where it was on the form."""

    source: str  # "medications[2]", as the normalizer names it
    number: int  # 1-based line number in the textarea
    written: str


@dataclass(frozen=True, slots=True)
class Check:
    """A valid form: the validated evaluation request, and what the page needs besides."""

    request: dict[str, Any]
    as_of: date
    years_on_opioids: float | None
    medications: tuple[Line, ...]


class FormError(Exception):
    """Invalid input: {form field: message}, the messages in the words of the form."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(", ".join(sorted(errors)))
        self.errors = errors


def read_form(form: Mapping[str, Any], terminology: Terminology, today: date) -> Check:
    """The form's fields as a validated evaluation request, or `FormError` naming each bad field
    (all of them at once where it can: a bad age does not hide a bad medication line)."""
    errors: dict[str, str] = {}
    raw = {key: lines.clean(form[key]) if key in ("medications", "conditions") and isinstance(form[key], str)
           else form[key] for key in form}
    try:
        values = CHECK_FORM.load(raw)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"form": error.messages}
        errors = {str(field): _joined(reasons) for field, reasons in messages.items()}
        values = error.valid_data if isinstance(error.valid_data, dict) else {}
    present = {key for key, value in raw.items() if isinstance(value, str) and value.strip()}
    for field, message in _together(present).items():
        errors.setdefault(field, message)
    for lab in LAB_FIELDS:
        if lab.name in values and not lab.qualitative:
            implausible = _plausible(lab, values[lab.name], values.get(lab.unit_name), terminology)
            if implausible:
                errors.setdefault(lab.name, implausible)
    as_of = values.get("as_of") or today
    latest = today + AS_OF_AHEAD
    if not EARLIEST_AS_OF <= as_of <= latest:
        errors.setdefault("as_of", f"Enter a date from {EARLIEST_AS_OF.isoformat()} to {latest.isoformat()}.")
        as_of = today
    medications, medication_lines = _lines(values.get("medications", ""), "medications", MAX_MEDICATIONS,
                                           lambda text: lines.medication(text, as_of), errors)
    conditions, condition_lines = _lines(values.get("conditions", ""), "conditions", MAX_CONDITIONS,
                                         lines.condition, errors)
    if errors:
        raise FormError(errors)
    body: dict[str, Any] = {
        "evaluationTime": as_of.isoformat(),
        "patient": _patient(values),
        "medications": medications,
        "conditions": conditions,
        "labs": [],
    }
    if values.get("order"):
        body["order"] = {"text": values["order"], **({"purpose": values["order_purpose"]}
                                                     if values.get("order_purpose") else {}),
                         **({"review": True} if values.get("order_review") else {})}
    lab_origins = []
    for lab in LAB_FIELDS:
        if lab.name in values:
            body["labs"].append(_lab(lab, values, terminology))
            lab_origins.append(lab)
    try:
        request = EVALUATE_REQUEST.load(body)
    except ValidationError as error:
        origins = {"medications": medication_lines, "conditions": condition_lines}
        raise FormError(_request_errors(flatten_errors(error.messages), origins, lab_origins, as_of)) from None
    return Check(request, as_of, values.get("years_on_opioids"), tuple(medication_lines))


def _patient(values: Mapping[str, Any]) -> dict[str, Any]:
    patient: dict[str, Any] = {"sex": values["sex"], "pregnancy": {"status": values["pregnancy"]},
                               "lactation": {"status": values["lactation"]}}
    if "age" in values:
        patient["age"] = values["age"]
    if "birth_date" in values:
        patient["birthDate"] = values["birth_date"].isoformat()
    return patient


def _lines(text: str, field: str, limit: int, read: Any, errors: dict[str, str]) -> tuple[list[dict[str, Any]],
                                                                                           list[Line]]:
    entries: list[dict[str, Any]] = []
    origins: list[Line] = []
    problems: list[str] = []
    for number, written in enumerate(text.splitlines(), start=1):
        if not written.strip():
            continue
        try:
            entries.append(read(written))
        except lines.LineError as error:
            problems.append(f"line {number}: {error}")
            continue
        origins.append(Line(f"{field}[{len(entries) - 1}]", number, written.strip()))
    if len(entries) + len(problems) > limit:
        problems.insert(0, f"At most {limit} lines, one {field[:-1]} a line.")
    if problems:
        errors[field] = "; ".join(problems)
    return entries, origins


def _lab(lab: LabField, values: Mapping[str, Any], terminology: Terminology) -> dict[str, Any]:
    analyte = terminology.analytes[lab.analyte]
    entry: dict[str, Any] = {"code": loinc_code(terminology, lab.analyte), "date": values[lab.date_name].isoformat()}
    if lab.qualitative:
        entry["result"] = values[lab.name]
    else:
        entry["value"] = values[lab.name]
        entry["unit"] = values.get(lab.unit_name) or analyte.unit
    return entry


def loinc_code(terminology: Terminology, analyte: str) -> str:
    """The first LOINC code the terminology reads as `analyte` (rules/terminology/labs.yaml)."""
    return next(code for code, key in terminology.loinc_codes().items() if key == analyte)


# ---- errors of the evaluation request, back on the form -----------------------------------------
_PATH = re.compile(r"^(?P<top>\w+)(?:\[(?P<index>\d+)\])?(?:\.(?P<rest>.+))?$")
_PATIENT = {"age": "age", "birthDate": "birth_date", "sex": "sex", "pregnancy": "pregnancy", "lactation": "lactation"}


def _request_errors(flat: Mapping[str, list[str]], origins: Mapping[str, list[Line]], labs: list[LabField],
                    as_of: date) -> dict[str, str]:
    """{"medications[2].text": [...]} → {"medications": "line 3: ..."}, in the form's words."""
    found: dict[str, list[str]] = {}
    for path, messages in flat.items():
        field, prefix = _field_for(path, origins, labs)
        words = " ".join(_reworded(message, as_of) for message in messages)
        found.setdefault(field, []).append(f"{prefix}{words}")
    return {field: "; ".join(messages) for field, messages in found.items()}


def _field_for(path: str, origins: Mapping[str, list[Line]], labs: list[LabField]) -> tuple[str, str]:
    """The form field a request path came from, and the prefix its message needs ("line 3: ")."""
    parsed = _PATH.match(path)
    if parsed is None:
        return "form", ""
    top, index, rest = parsed["top"], parsed["index"], parsed["rest"] or ""
    first = rest.split(".", 1)[0]
    if top == "patient":
        return _PATIENT.get(first, "age"), ""
    if top == "order":
        return ("order_purpose" if first == "purpose" else "order"), ""
    if top in origins:
        if index is not None and int(index) < len(origins[top]):
            return top, f"line {origins[top][int(index)].number}: "
        return top, ""
    if top == "labs" and index is not None and int(index) < len(labs):
        lab = labs[int(index)]
        return (lab.date_name if first == "date" else lab.name), ""
    if top == "evaluationTime":
        return "as_of", ""
    return "form", ""


def _reworded(message: str, as_of: date) -> str:
    """A request message in the form's words: its field names, not the API's."""
    message = message.replace("the evaluation time", f"the 'as of' date ({as_of.isoformat()})")
    message = message.replace("birthDate", "birth date")
    message = message.replace("end is before start", "the stop date is before the start date")
    return message[:1].upper() + message[1:]


def _joined(messages: Any) -> str:
    if isinstance(messages, dict):
        return " ".join(_joined(value) for value in messages.values())
    if isinstance(messages, list):
        return " ".join(_joined(value) for value in messages)
    return str(messages)
