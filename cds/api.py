"""The JSON API, `/v1`: evaluate a patient, read the rule catalogue."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound, UnsupportedMediaType

from .exceptions import InputError
from .rulebook import Rule
from .schemas import EVALUATE_REQUEST, flatten_errors
from .service import Evaluator

bp = Blueprint("v1", __name__, url_prefix="/v1")


def evaluator() -> Evaluator:
    return current_app.extensions["ldn_cds"]


def json_body() -> dict[str, Any]:
    """The request's JSON object, or a 4xx problem saying exactly what is wrong with it."""
    if not request.is_json:
        raise UnsupportedMediaType(
            f"Send the body as application/json (got {request.mimetype or 'no content type'}).")
    try:
        body = current_app.json.loads(request.get_data(cache=True))
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise InputError({"body": ["is not valid JSON"]}, "Malformed JSON") from None
    if not isinstance(body, dict):
        raise InputError({"body": ["must be a JSON object"]})
    return body


@bp.post("/evaluate")
def evaluate() -> Response:
    try:
        data = EVALUATE_REQUEST.load(json_body())
    except ValidationError as error:
        raise InputError(flatten_errors(error.messages)) from None
    result = evaluator().evaluate(data)
    g.alert_count = len(result.alerts)
    return jsonify(result.to_dict())


@bp.get("/rules")
def rules() -> Response:
    rulebook = evaluator().rulebook
    return jsonify({"rules": [rule_view(rule) for rule in rulebook.rules]})


@bp.get("/rules/<rule_id>")
def rule(rule_id: str) -> Response | str:
    found = evaluator().rulebook.get(rule_id)
    if found is None:
        raise NotFound(f"No rule has the id {rule_id!r}.")
    # A clinician following a card's link gets a page; programs get JSON.
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        return render_template("rule.html", rule=found)
    return jsonify(rule_view(found))


def rule_view(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "version": rule.version,
        "title": rule.title,
        "category": rule.category,
        "severity": rule.severity,
        "conditions": rule.conditions_in_words,
        "parameters": {p.name: {"value": p.value, "unit": p.unit, "why": p.why} for p in rule.parameters},
        "summary": rule.summary,
        "detail": rule.detail,
        "rationale": rule.rationale,
        "sources": [{"id": s.id, "kind": s.kind, "label": s.label, **({"url": s.url} if s.url else {})}
                    for s in rule.sources],
        "suggestions": [dict(s) for s in rule.suggestions],
        "file": f"rules/{rule.file}",
    }
