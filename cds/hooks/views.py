"""`/cds-services`: discovery, the hook calls and feedback (CDS Hooks 2.0.1)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields
from werkzeug.exceptions import NotFound

from ..api import evaluator, json_body
from ..exceptions import InputError
from ..problems import problem
from ..schemas import EVALUATE_REQUEST, flatten_errors
from . import prefetch as prefetching
from .auth import AuthError, authenticator_from_config, www_authenticate
from .cards import CardContext, card
from .feedback import IssuedCard, store_from_config
from .fhir import FhirError, clip_to, read_hook
from .services import Service, services

bp = Blueprint("cds_hooks", __name__, url_prefix="/cds-services")
_ENVELOPE = {"hook", "hookInstance", "fhirServer", "fhirAuthorization", "context", "prefetch", "extension"}


class _HookRequest(Schema):
    """The request envelope: strict on what we read, tolerant of what we do not (spec extensions)."""

    class Meta:
        unknown = EXCLUDE

    hook = fields.String(required=True)
    hookInstance = fields.String(required=True)
    fhirServer = fields.Url(require_tld=False, schemes={"http", "https"})
    fhirAuthorization = fields.Dict(allow_none=True)
    context = fields.Dict(required=True)
    prefetch = fields.Dict(allow_none=True, load_default=dict)


_HOOK_REQUEST = _HookRequest()


def init_app(app: Flask) -> None:
    app.extensions["ldn_cds_hooks"] = {
        "services": {s.id: s for s in services(app.extensions["ldn_cds"].terminology)},
        "auth": authenticator_from_config(app.config),
        "feedback": store_from_config(app.config, app.instance_path),
    }
    if app.extensions["ldn_cds_hooks"]["auth"] is None:
        app.logger.warning("CDS Hooks JWT checks are OFF (LDN_CDS_HOOKS_AUTH=off): local development only")
    app.register_blueprint(bp)


def _hooks() -> dict[str, Any]:
    return current_app.extensions["ldn_cds_hooks"]


def _service(service_id: str) -> Service:
    found = _hooks()["services"].get(service_id)
    if found is None:
        raise NotFound(f"No CDS Service has the id {service_id!r}.")
    return found


def _authenticate() -> None:
    """The caller's JWT, checked against the trusted issuers; the token itself is never logged."""
    authenticator = _hooks()["auth"]
    if authenticator is None:
        return
    public = current_app.config.get("PUBLIC_BASE_URL")
    audience = public.rstrip("/") + request.path if public else request.base_url
    try:
        authenticator.verify(request.headers.get("Authorization"), audience=audience)
    except AuthError as error:
        current_app.logger.info("cds hooks authentication refused", extra={
            "request_id": g.get("request_id"), "auth_error": error.reason,
            **{f"auth_{key}": value for key, value in error.context.items()}})
        response = problem(401, "Unauthorized", "Authentication required.")
        response.headers["WWW-Authenticate"] = www_authenticate(error)
        raise _Unauthorized(response) from None


class _Unauthorized(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


@bp.errorhandler(_Unauthorized)
def _unauthorized(error: _Unauthorized) -> Response:
    return error.response


@bp.get("")
def discovery() -> Response:
    return jsonify({"services": [s.discovery() for s in _hooks()["services"].values()]})


@bp.post("/<service_id>")
def call(service_id: str) -> Response:
    service = _service(service_id)
    _authenticate()
    envelope = _envelope(json_body(), service)
    context = envelope["context"]
    try:
        filled = prefetching.complete(_missing_templates(service, envelope["prefetch"]), envelope["prefetch"],
                                      context, envelope.get("fhirServer"), envelope.get("fhirAuthorization"))
    except prefetching.PrefetchUnavailable as error:
        current_app.logger.info("prefetch unavailable", extra={"request_id": g.get("request_id"), "reason": str(error)})
        return _precondition_failed()
    try:
        patient = read_hook(service.hook, context, filled)
    except FhirError as error:
        raise InputError({"context": [str(error)]}, "Unusable FHIR data") from None
    cards, issued = _cards(service, envelope, patient)
    _hooks()["feedback"].record_cards(issued)
    g.alert_count = len(cards)
    return jsonify({"cards": cards})


@bp.post("/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    _service(service_id)
    _authenticate()
    # Invalid feedback and cards this service never issued are InputErrors: 400 naming the path.
    stored = _hooks()["feedback"].record_feedback(service_id, json_body())
    return jsonify({"received": len(stored)})


def _envelope(body: dict[str, Any], service: Service) -> dict[str, Any]:
    body = _repaired(body)
    try:
        envelope = _HOOK_REQUEST.load(body)
    except ValidationError as error:
        raise InputError(flatten_errors(error.messages)) from None
    if envelope["hook"] != service.hook:
        raise InputError({"hook": [f"this service answers {service.hook!r}, not {envelope['hook']!r}"]})
    envelope["prefetch"] = envelope.get("prefetch") or {}
    return envelope


def _repaired(body: dict[str, Any]) -> dict[str, Any]:
    """Tolerate published legacy shapes: prefetch inside context, resources beside prefetch."""
    body = dict(body)
    context = body.get("context")
    prefetch = dict(body.get("prefetch") or {})
    if isinstance(context, dict) and isinstance(context.get("prefetch"), dict):
        context = dict(context)
        prefetch.update(context.pop("prefetch"))
        body["context"] = context
    for key in [k for k in body if k not in _ENVELOPE]:
        value = body[key]
        if isinstance(value, dict) and isinstance(value.get("resourceType"), str):
            prefetch.setdefault(key, body.pop(key))
    body["prefetch"] = prefetch
    return body


def _missing_templates(service: Service, prefetch: dict[str, Any]) -> dict[str, str]:
    """Templates whose key and resource type the client sent neither of (clients may name keys their way)."""
    present = _resource_types(prefetch)
    return {key: template for key, template in service.prefetch.items()
            if key not in prefetch and template.split("?", 1)[0].split("/", 1)[0] not in present}


def _resource_types(prefetch: dict[str, Any]) -> set[str]:
    types: set[str] = set()
    for value in prefetch.values():
        if not isinstance(value, dict):
            continue
        types.add(value.get("resourceType", ""))
        for entry in value.get("entry") or ():
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict):
                types.add(entry["resource"].get("resourceType", ""))
    return types


def _cards(service: Service, envelope: dict[str, Any], patient: Any) -> tuple[list[dict], list[IssuedCard]]:
    base_url = current_app.config.get("PUBLIC_BASE_URL") or request.url_root.rstrip("/")
    patient_id = envelope["context"].get("patientId")
    now = datetime.now(timezone.utc)
    # The EHR's clock may run ahead of ours: results "from the future" are left out (and logged).
    known, clipped = clip_to(patient.request, now)
    if clipped:
        current_app.logger.info("fhir data left out", extra={"request_id": g.get("request_id"), "notes": clipped})
    drafts = [d for d in patient.draft_orders if d.entry is not None]
    selected = [d for d in drafts if not patient.selections
                or f"{d.resource_type}/{d.resource_id}" in patient.selections]
    reviews = _under_review(known) if service.hook == "patient-view" else []
    cards: list[dict] = []
    issued: list[IssuedCard] = []
    seen: set[tuple[str, str]] = set()
    for draft, order, medications in [*_order_checks(known, drafts, selected), *reviews]:
        body = {**known, "evaluationTime": now.isoformat(), "order": order, "medications": medications}
        try:
            loaded = EVALUATE_REQUEST.load(body)
        except ValidationError as error:
            raise InputError({"context": [f"{path}: {', '.join(reasons)}"
                                          for path, reasons in flatten_errors(error.messages).items()]},
                             "Unusable FHIR data") from None
        reference = f"{draft.resource_type}/{draft.resource_id}" if draft and draft.resource_id else None
        context = CardContext(base_url, patient_id, draft.resource if draft else None, reference)
        for alert in evaluator().evaluate(loaded).alerts:
            key = (alert.rule.id, alert.summary)
            if key in seen:  # the same finding about the medication list, once
                continue
            seen.add(key)
            made = card(alert, context)
            cards.append(made)
            issued.append(IssuedCard(uuid=made["uuid"], service_id=service.id, rule_id=alert.rule.id,
                                     rule_version=alert.rule.version, hook_instance=envelope["hookInstance"],
                                     suggestion_ids=tuple(s["uuid"] for s in made.get("suggestions", ())),
                                     issued_at=now))
    return cards, issued


def _order_checks(known: dict[str, Any], drafts: list[Any], selected: list[Any]) -> list[tuple[Any, dict, list]]:
    """Each selected draft order, with the other drafts (signed together) counted as current."""
    current = list(known.get("medications", []))
    return [(draft, draft.entry, current + [d.entry for d in drafts if d is not draft]) for draft in selected]


def _under_review(known: dict[str, Any]) -> list[tuple[None, dict, list]]:
    """patient-view: each current naltrexone prescription, reviewed as an order against the rest."""
    medications = list(known.get("medications", []))
    reader = evaluator().normalizer
    today = datetime.now(timezone.utc).date()
    reviews = []
    for index, entry in enumerate(medications):
        try:
            loaded = EVALUATE_REQUEST.load({"medications": [entry]})["medications"][0]
        except ValidationError:
            continue  # reported when the whole request is loaded
        read = reader.medication(loaded, f"medications[{index}]", today, [])
        if read is not None and read.status != "stopped" and "naltrexone" in read.classes:
            order = {key: value for key, value in entry.items() if key not in ("status", "start", "end")}
            reviews.append((None, {**order, "review": True}, medications[:index] + medications[index + 1:]))
    return reviews


def _precondition_failed() -> Response:
    return problem(412, "Precondition Failed",
                   "Prefetch data is missing and the FHIR server could not be read (send the prefetch, or "
                   "fhirServer with fhirAuthorization).")
