"""The boundary of the planners: JSON (API and CLI) → planner requests, plans → JSON.

marshmallow validates the input; drug names and frequencies are read with the same terminology
and sig reader as evaluations, so "oxycodone" and "every 8 hours" mean the same everywhere.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..dosing import SigReader
from ..schemas import Number
from ..terminology import ProductPart, Terminology
from .taper import OpioidDose, TaperRequest
from .titration import Adjustment, TitrationRequest

# The forms of taper.yaml, and film and spray, which the planner refuses with its reason.
_FORMS = ("tablet", "capsule", "er tablet", "er capsule", "liquid", "solution", "patch", "film", "spray")


class _Quantity(Schema):
    value = Number(required=True, allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))
    unit = fields.String(required=True, validate=validate.Length(min=1, max=20))


class _Opioid(Schema):
    drug = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"description": "The opioid as written: 'oxycodone', 'MS Contin', 'fentanyl patch'"})
    dose = fields.Nested(_Quantity, required=True, metadata={"description": "Per administration; patches in mcg/h"})
    frequency = fields.String(load_default="once daily", validate=validate.Length(min=1, max=100))
    form = fields.String(load_default="tablet", validate=validate.OneOf(_FORMS))


class _Proposed(Schema):
    date = fields.Date(required=True)
    totalMme = Number(required=True, allow_nan=False, validate=validate.Range(min=0))


class TaperRequestSchema(Schema):
    start = fields.Date(required=True)
    yearsOfUse = Number(required=True, allow_nan=False, validate=validate.Range(min=0, max=80))
    regimen = fields.Nested(_Opioid, many=True, required=True, validate=validate.Length(min=1, max=10))
    uldn = fields.Boolean(load_default=False)
    ratePercent = Number(allow_nan=False, validate=validate.Range(min=0, max=100, min_inclusive=False))
    intervalDays = fields.Integer(strict=True, validate=validate.Range(min=1, max=90))
    floorMme = Number(load_default=0, allow_nan=False, validate=validate.Range(min=0))
    pauses = fields.List(fields.Integer(strict=True, validate=validate.Range(min=1)), load_default=list)
    proposed = fields.Nested(_Proposed, many=True, validate=validate.Length(min=1, max=200),
                             metadata={"description": "A clinician's taper to check instead of planning one"})


class _Adjustment(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("side-effects", "sleep-disturbance", "gi-effects")))
    on = fields.Date(required=True)


class TitrationRequestSchema(Schema):
    start = fields.Date(required=True)
    targetMg = Number(load_default=4.5, allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))
    startMg = Number(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))
    stepMg = Number(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))
    intervalDays = fields.Integer(strict=True, validate=validate.Range(min=1, max=90))
    protocol = fields.String(load_default="seed-001-4-weeks", validate=validate.Length(min=1, max=60))
    formulation = fields.String(load_default="capsule", validate=validate.OneOf(("capsule", "liquid", "drops")))
    capsuleStrengths = fields.List(Number(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False)),
                                   validate=validate.Length(min=1, max=20))
    liquidMgPerMl = Number(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False), metadata={
        "description": "mg/mL of the liquid or of the drops' solution (default: liquid 1, drops 10)"})
    dropsPerMl = Number(allow_nan=False, validate=validate.Range(min=0, min_inclusive=False))
    timeOfDay = fields.String(load_default="bedtime", validate=validate.OneOf(("bedtime", "morning")))
    allowAboveUsualMax = fields.Boolean(load_default=False, metadata={
        "description": "Plan a target above 4.5 mg deliberately (below 25 mg)"})
    adjustments = fields.Nested(_Adjustment, many=True, load_default=list, validate=validate.Length(max=20))

    @validates_schema
    def _start_within_target(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("startMg") and data["startMg"] > data["targetMg"]:
            raise ValidationError("is above the target dose", "startMg")


TAPER_REQUEST = TaperRequestSchema()
TITRATION_REQUEST = TitrationRequestSchema()


def taper_request(data: dict[str, Any], terminology: Terminology, sigs: SigReader) -> TaperRequest:
    """A loaded taper body as the planner's request; names and frequencies read, never guessed."""
    errors: dict[str, list[str]] = {}
    regimen = []
    for index, opioid in enumerate(data["regimen"]):
        ingredients = _opioids(opioid["drug"], terminology)
        if len(ingredients) != 1:
            errors[f"regimen[{index}].drug"] = [f"{opioid['drug']!r} is not one opioid LDN CDS knows"]
            continue
        per_day, as_needed, _ = sigs.frequency(opioid["frequency"])
        if per_day is None and opioid["dose"]["unit"].lower() not in ("mcg/h", "mcg/hr", "µg/h", "ug/h"):
            errors[f"regimen[{index}].frequency"] = [f"{opioid['frequency']!r} is not a frequency LDN CDS reads"]
            continue
        regimen.append(OpioidDose(ingredient=ingredients[0].name, dose=opioid["dose"]["value"],
                                  unit=opioid["dose"]["unit"], per_day=per_day or 1.0, form=opioid["form"],
                                  as_needed=as_needed))
    if errors:
        raise ValidationError(errors)
    return TaperRequest(regimen=tuple(regimen), start=data["start"], years_of_use=data["yearsOfUse"],
                        uldn=data["uldn"], rate_percent=data.get("ratePercent"), interval_days=data.get("intervalDays"),
                        floor_mme=data["floorMme"], pauses=tuple(data["pauses"]))


def _opioids(written: str, terminology: Terminology) -> list[Any]:
    """The distinct active opioid ingredients a drug name stands for (Percocet → oxycodone)."""
    found: dict[str, Any] = {}
    for hit in terminology.find_names(written.lower()):
        parts = hit.product.parts if hit.product else (ProductPart(hit.ingredient),)
        for part in parts:
            if not part.inactive_reason and "opioid-agonist" in part.ingredient.classes:
                found.setdefault(part.ingredient.name, part.ingredient)
    return list(found.values())


def titration_request(data: dict[str, Any]) -> TitrationRequest:
    return TitrationRequest(
        start=data["start"], target_mg=data["targetMg"], start_mg=data.get("startMg"), step_mg=data.get("stepMg"),
        interval_days=data.get("intervalDays"), protocol=data["protocol"], formulation=data["formulation"],
        capsule_strengths=tuple(data["capsuleStrengths"]) if data.get("capsuleStrengths") else None,
        liquid_mg_per_ml=data.get("liquidMgPerMl"), drops_per_ml=data.get("dropsPerMl"), time_of_day=data["timeOfDay"],
        adjustments=tuple(Adjustment(kind=a["kind"], on=a["on"]) for a in data["adjustments"]),
        allow_above_usual_max=data["allowAboveUsualMax"],
    )


def as_json(value: Any) -> Any:
    """A plan (dataclasses, tuples, dates) as plain JSON values, field names in camelCase."""
    if dataclasses.is_dataclass(value):
        return {_camel(f.name): as_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, (list, tuple)):
        return [as_json(item) for item in value]
    if isinstance(value, dict):
        return {str(k): as_json(v) for k, v in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(word.capitalize() for word in rest)
