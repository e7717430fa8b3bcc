"""marshmallow schemas for the boundary: what the JSON API and the CLI accept.

Unknown fields are refused (marshmallow's RAISE), so a misspelt field is an error naming it,
never a silent drop. Limits keep one request bounded in time and memory.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .model import LACTATION, PREGNANCY, PURPOSES, SEX

MAX_MEDICATIONS = 200
MAX_CONDITIONS = 200
MAX_LABS = 500
MAX_AGE = 130
_TEXT = validate.Length(min=1, max=500)
_CODE = validate.Length(min=1, max=64)
_SYSTEM = validate.Length(min=1, max=200)


class DateOrDateTime(fields.Field):
    """An ISO 8601 date or date-time; a date means its midnight, no zone means UTC."""

    default_error_messages = {"invalid": "Not a valid ISO 8601 date or date-time."}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        if not isinstance(value, str) or len(value) > 40:
            raise self.make_error("invalid")
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise self.make_error("invalid") from None
        if isinstance(parsed, date) and not isinstance(parsed, datetime):
            parsed = datetime(parsed.year, parsed.month, parsed.day)
        offset = parsed.utcoffset()
        if offset is not None and offset.total_seconds() % 60:  # RFC 3339 offsets are whole minutes
            raise self.make_error("invalid")
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return value.isoformat() if value is not None else None


class RepeatedNested(fields.Nested):
    """Nested objects (one, or a list with many=True) whose identical entries are validated once per
    process.

    Medication lines, condition codes and orders repeat across patients ("metformin 500 mg bid"): an
    entry seen before, byte for byte and type for type, gets the result it got then (a copy), so only
    new wording pays for marshmallow. Any new or invalid entry goes through marshmallow (the whole
    list), so errors and their paths are exactly marshmallow's."""

    _LIMIT = 65_536  # remembered entries per field, per process

    def __init__(self, nested: Any, **kwargs: Any) -> None:
        super().__init__(nested, **kwargs)
        self._seen: dict[Any, dict[str, Any]] = {}

    def _deserialize(self, value: Any, attr: str | None, data: Any, partial: Any = None, **kwargs: Any) -> Any:
        if partial:
            return super()._deserialize(value, attr, data, partial=partial, **kwargs)
        if not self.many:
            if not isinstance(value, dict):
                return super()._deserialize(value, attr, data, partial=partial, **kwargs)
            key = _frozen(value)
            known = self._seen.get(key)
            if known is None:
                known = super()._deserialize(value, attr, data, partial=partial, **kwargs)
                if len(self._seen) >= self._LIMIT:
                    self._seen.clear()
                self._seen[key] = _copy(known)
            return _copy(known)
        if not isinstance(value, list):
            return super()._deserialize(value, attr, data, partial=partial, **kwargs)
        keys = [_frozen(item) for item in value]
        known = [self._seen.get(key) for key in keys]
        if all(entry is not None for entry in known):
            return [_copy(entry) for entry in known]  # type: ignore[arg-type]
        loaded = super()._deserialize(value, attr, data, partial=partial, **kwargs)
        if len(self._seen) + len(keys) > self._LIMIT:
            self._seen.clear()
        for key, entry in zip(keys, loaded):
            self._seen[key] = _copy(entry)
        return loaded


def _frozen(value: Any) -> Any:
    """A hashable key that tells apart what JSON tells apart (1, 1.0 and true are three values)."""
    if isinstance(value, dict):
        return ("{", tuple(sorted((str(k), _frozen(v)) for k, v in value.items())))
    if isinstance(value, list):
        return ("[", tuple(_frozen(v) for v in value))
    return (type(value), value)


def _copy(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: dict(item) if isinstance(item, dict) else item for key, item in entry.items()}


class Number(fields.Float):
    """A JSON number: "4.5" as a string is refused, as the contract says number."""

    def _validated(self, value: Any) -> float:
        if isinstance(value, (str, bool)):
            raise self.make_error("invalid")
        return super()._validated(value)


class WholeNumber(fields.Integer):
    """A JSON integer; 54.0 is one too (JSON Schema's integer), 54.5 and "54" are not."""

    def _validated(self, value: Any) -> int:
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class _Quantity(Schema):
    value = Number(required=True, allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=40))


class _Status(Schema):
    evidence = fields.String(validate=_TEXT)


class _Pregnancy(_Status):
    status = fields.String(required=True, validate=validate.OneOf(PREGNANCY))


class _Lactation(_Status):
    status = fields.String(required=True, validate=validate.OneOf(LACTATION))


class PatientSchema(Schema):
    age = WholeNumber(validate=validate.Range(min=0, max=MAX_AGE))
    birthDate = fields.Date()
    sex = fields.String(validate=validate.OneOf(SEX), load_default="unknown")
    pregnancy = fields.Nested(_Pregnancy)
    lactation = fields.Nested(_Lactation)

    @validates_schema
    def _one_age(self, data: dict[str, Any], **_: Any) -> None:
        if "age" in data and "birthDate" in data:
            raise ValidationError("give age or birthDate, not both", "age")


class MedicationSchema(Schema):
    text = fields.String(validate=_TEXT, metadata={"description": "As a pharmacist writes it: 'Percocet 5/325 1 q6h prn'"})
    code = fields.String(validate=_CODE, metadata={"description": "RxNorm code (ingredient or product)"})
    system = fields.String(validate=_SYSTEM, load_default="http://www.nlm.nih.gov/research/umls/rxnorm")
    dose = fields.Nested(_Quantity, metadata={"description": "Amount per administration"})
    concentration = fields.Nested(_Quantity, metadata={"description": "For liquids, e.g. 1 mg/mL"})
    frequency = fields.String(validate=validate.Length(min=1, max=100))
    status = fields.String(validate=validate.OneOf(("active", "on-hold", "stopped", "completed", "unknown")),
                           load_default="active")
    start = fields.Date()
    end = fields.Date()

    @validates_schema
    def _named(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("text") and not data.get("code"):
            raise ValidationError("give text or code (or both)", "text")
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError("end is before start", "end")


class OrderSchema(MedicationSchema):
    purpose = fields.String(validate=validate.OneOf(PURPOSES),
                            metadata={"description": "What the prescriber says the order is for"})
    review = fields.Boolean(load_default=False, metadata={
        "description": "The order is a current prescription under review (patient-view), not a new one"})


class ConditionSchema(Schema):
    code = fields.String(validate=_CODE)
    system = fields.String(validate=_SYSTEM, load_default="http://hl7.org/fhir/sid/icd-10-cm")
    text = fields.String(validate=_TEXT)
    status = fields.String(validate=validate.OneOf(("active", "resolved", "inactive", "remission")),
                           load_default="active")

    @validates_schema
    def _named(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("text") and not data.get("code"):
            raise ValidationError("give text or code (or both)", "code")


class LabSchema(Schema):
    code = fields.String(required=True, validate=_CODE, metadata={"description": "LOINC code"})
    value = Number(allow_nan=False)
    result = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Qualitative result"})
    unit = fields.String(validate=validate.Length(max=40))
    date = DateOrDateTime(required=True)
    referenceHigh = Number(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))

    @validates_schema
    def _has_result(self, data: dict[str, Any], **_: Any) -> None:
        if "value" not in data and "result" not in data:
            raise ValidationError("give value or result", "value")


class EvaluateRequestSchema(Schema):
    evaluationTime = DateOrDateTime(metadata={"description": "Default: now (UTC)"})
    patient = fields.Nested(PatientSchema, load_default=dict)
    order = RepeatedNested(OrderSchema)
    medications = RepeatedNested(MedicationSchema, many=True, load_default=list,
                                 validate=validate.Length(max=MAX_MEDICATIONS))
    conditions = RepeatedNested(ConditionSchema, many=True, load_default=list,
                                validate=validate.Length(max=MAX_CONDITIONS))
    labs = fields.Nested(LabSchema, many=True, load_default=list, validate=validate.Length(max=MAX_LABS))

    @validates_schema
    def _dates_possible(self, data: dict[str, Any], **_: Any) -> None:
        # A result cannot come from the future: it would count as the latest and never age. A
        # medication may start later (a planned start), so its dates are not checked here.
        now = data.get("evaluationTime") or datetime.now(timezone.utc)
        errors: dict[str, Any] = {}
        born = data.get("patient", {}).get("birthDate")
        if born is not None and born > now.date():
            errors["patient"] = {"birthDate": ["is after the evaluation time"]}
        elif born is not None and now.year - born.year > MAX_AGE + 1:
            errors["patient"] = {"birthDate": [f"gives an age over {MAX_AGE} years"]}
        late = {index: {"date": ["is after the evaluation time"]}
                for index, lab in enumerate(data.get("labs") or ()) if lab["date"] > now}
        if late:
            errors["labs"] = late
        if errors:
            raise ValidationError(errors)


EVALUATE_REQUEST = EvaluateRequestSchema()


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict as {"medications[2].dose.unit": ["..."]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix or "body"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for sub, reasons in flatten_errors(value, path).items():
                flat.setdefault(sub, []).extend(reasons)
    elif isinstance(messages, list):
        for item in messages:
            if isinstance(item, str):
                flat.setdefault(prefix or "body", []).append(item)
            else:
                for sub, reasons in flatten_errors(item, prefix).items():
                    flat.setdefault(sub, []).extend(reasons)
    else:
        flat.setdefault(prefix or "body", []).append(str(messages))
    return flat
