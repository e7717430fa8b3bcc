"""`/v1/taper` and `/v1/titration`: the planners over HTTP (plans are computed, never stored)."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, jsonify
from marshmallow import ValidationError

from .api import evaluator, json_body
from .exceptions import InputError
from .ruleset import EXTENSION
from .planners.requests import TAPER_REQUEST, TITRATION_REQUEST, as_json, taper_request, titration_request
from .planners import taper as taper_module
from .planners import titration as titration_module
from .planners.taper import TaperError, check_taper, plan_taper
from .planners.titration import TitrationError, plan_titration
from .schemas import flatten_errors

bp = Blueprint("plans", __name__, url_prefix="/v1")


def init_app(app: Flask) -> None:
    taper_module.preload(app.extensions[EXTENSION].current.evaluator.terminology)
    titration_module.preload()
    app.register_blueprint(bp)


@bp.post("/taper")
def taper() -> Response:
    """Plan an opioid taper (with ULDN when asked), or check a clinician's proposed one."""
    try:
        data = TAPER_REQUEST.load(json_body())
        request = taper_request(data, evaluator().terminology, evaluator().normalizer.medications.sigs)
    except ValidationError as error:
        raise InputError(flatten_errors(error.messages)) from None
    try:
        if "proposed" in data:
            problems = check_taper(request, [(step["date"], step["totalMme"]) for step in data["proposed"]])
            return jsonify({"acceptable": not problems, "problems": problems})
        return jsonify(as_json(plan_taper(request)))
    except TaperError as error:
        raise InputError({"regimen": [str(error)]}, "Taper cannot be planned") from None


@bp.post("/titration")
def titration() -> Response:
    """Plan an LDN titration: dates, doses and what to dispense."""
    try:
        request = titration_request(TITRATION_REQUEST.load(json_body()))
        return jsonify(as_json(plan_titration(request)))
    except ValidationError as error:
        raise InputError(flatten_errors(error.messages)) from None
    except TitrationError as error:
        raise InputError({"body": [str(error)]}, "Titration cannot be planned") from None
