"""`/cds-services`: discovery, the hook calls and feedback (CDS Hooks 2.0.1)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request
from marshmallow import EXCLUDE, Schema, ValidationError, fields
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import NotFound

from ..api import evaluator, json_body, opioid_safety
from ..exceptions import ConfigurationError, InputError
from ..problems import problem
from ..review import evaluate_checks, order_checks, therapy_reviews
from ..schemas import flatten_errors
from ..terminology import Terminology
from . import prefetch as prefetching
from .auth import AuthError, authenticator_from_config, www_authenticate
from .cards import CardContext, card
from .feedback import IssuedCard, store_from_config
from ..opioid_safety import ChartError
from .fhir import FhirError, clip_to, read_hook
from .services import Service, services

bp = Blueprint("cds_hooks", __name__, url_prefix="/cds-services")
_ENVELOPE = {"hook", "hookInstance", "fhirServer", "fhirAuthorization", "context", "prefetch", "extension"}
# A request extension naming the evaluation time (ISO 8601), so an answer can be reproduced and audited.
EVALUATION_TIME_EXTENSION = "ldn-cds-evaluation-time"
# Hook names from before CDS Hooks 1.0 that published examples still use.
_LEGACY_HOOKS = {"medication-prescribe": "order-select", "order-review": "order-sign"}


class _HookRequest(Schema):
    """The request envelope: strict on what we read, tolerant of what we do not (spec extensions)."""

    class Meta:
        unknown = EXCLUDE

    hook = fields.String(required=True)
    hookInstance = fields.String(required=True)
    fhirServer = fields.Url(require_tld=False, schemes={"http", "https"})
    fhirAuthorization = fields.Dict(allow_none=True)
    context = fields.Dict(required=True)
    extension = fields.Dict(allow_none=True)
    prefetch = fields.Dict(allow_none=True, load_default=dict)


_HOOK_REQUEST = _HookRequest()


def init_app(app: Flask) -> None:
    feedback = store_from_config(app.config, app.instance_path)
    # Token ids live in the shared database: a token replayed to another worker is refused too.
    auth = authenticator_from_config(app.config, jti_store=feedback.token_ids)
    if auth is not None and auth.issuers and not app.config.get("PUBLIC_BASE_URL"):
        # The JWT audience must be the URL the EHR called, not one a Host header makes up.
        raise ConfigurationError("LDN_CDS_PUBLIC_BASE_URL is required when CDS Hooks issuers are trusted")
    app.extensions["ldn_cds_hooks"] = {
        "auth": auth,
        "feedback": feedback,
        "fhir_servers": _list_setting(app.config.get("HOOKS_FHIR_SERVERS")),
    }
    if auth is None:
        app.logger.warning("CDS Hooks JWT checks are OFF (LDN_CDS_HOOKS_AUTH=off): local development only")
    app.register_blueprint(bp)


def _list_setting(value: Any) -> tuple[str, ...]:
    """A list, JSON list text, or comma-separated text (as an environment variable holds it)."""
    if not value:
        return ()
    if isinstance(value, str):
        value = json.loads(value) if value.lstrip().startswith("[") else value.split(",")
    return tuple(str(item).strip() for item in value if str(item).strip())


def _hooks() -> dict[str, Any]:
    return current_app.extensions["ldn_cds_hooks"]


def _services() -> dict[str, Service]:
    """The services of the rule set in force (their prefetch queries come from its terminology)."""
    terminology = evaluator().terminology
    found = _SERVICES.get(id(terminology))
    if found is None or found[0] is not terminology:
        if len(_SERVICES) >= 4:  # rule sets replaced by reloads
            _SERVICES.clear()
        found = _SERVICES[id(terminology)] = (terminology, {s.id: s for s in services(terminology)})
    return found[1]


_SERVICES: dict[int, tuple[Terminology, dict[str, Service]]] = {}  # by terminology, built once per rule set


def _service(service_id: str) -> Service:
    found = _services().get(service_id)
    if found is None:
        raise NotFound(f"No CDS Service has the id {service_id!r}.")
    return found


def _authenticate(service_path: str | None = None) -> None:
    """The caller's JWT, checked against the trusted issuers; the token itself is never logged.
    Feedback tokens may name the feedback URL or the service's own (`service_path`)."""
    authenticator = _hooks()["auth"]
    if authenticator is None:
        return
    public = current_app.config.get("PUBLIC_BASE_URL")
    base = public.rstrip("/") if public else request.host_url.rstrip("/")
    header = request.headers.get("Authorization")
    try:
        try:
            authenticator.verify(header, audience=base + request.path)
        except AuthError as error:
            if service_path is None or error.reason != "audience mismatch":
                raise
            authenticator.verify(header, audience=base + service_path)
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
    return jsonify({"services": [s.discovery() for s in _services().values()]})


@bp.post("/<service_id>")
def call(service_id: str) -> Response:
    service = _service(service_id)
    _authenticate()
    envelope = _envelope(json_body(), service)
    context = envelope["context"]
    try:
        filled = prefetching.complete(_missing_templates(service, envelope["prefetch"]), envelope["prefetch"],
                                      context, envelope.get("fhirServer"), envelope.get("fhirAuthorization"),
                                      _hooks()["fhir_servers"])
    except prefetching.PrefetchUnavailable as error:
        current_app.logger.info("prefetch unavailable", extra={"request_id": g.get("request_id"), "reason": str(error)})
        if not envelope["prefetch"]:
            return _precondition_failed()
        # Some data was sent: evaluate it. What is missing reads as "not documented" (a patient
        # without a Patient resource has an unknown sex, age and pregnancy status), never as "fine".
        filled = envelope["prefetch"]
    now = _evaluation_time(envelope)
    if service.pack == "opioid-safety":
        cards, issued = _safety_cards(service, envelope, filled, now)
    else:
        cards, issued = _cards(service, envelope, _patient(service, context, filled), now)
    try:
        _hooks()["feedback"].record_cards(issued)
    except SQLAlchemyError as error:  # the cards still reach the clinician; feedback on them will be refused
        current_app.logger.error("could not record issued cards",
                                 extra={"request_id": g.get("request_id"), "error_type": type(error).__name__})
    g.alert_count = len(cards)
    return jsonify({"cards": cards})


def _patient(service: Service, context: dict[str, Any], filled: dict[str, Any]) -> Any:
    try:
        patient = read_hook(service.hook, context, filled)
    except FhirError as error:
        raise InputError({"context": [str(error)]}, "Unusable FHIR data") from None
    except (TypeError, ValueError, AttributeError, OverflowError, KeyError) as error:
        # FHIR of a shape no R4 resource has (a list where a code belongs...): a 400, not a 500.
        current_app.logger.info("unreadable fhir", extra={"request_id": g.get("request_id"),
                                                           "error_type": type(error).__name__})
        raise InputError({"context": ["FHIR data of an unexpected shape; check it against FHIR R4"]},
                         "Unusable FHIR data") from None
    if patient.notes:
        current_app.logger.info("fhir notes", extra={"request_id": g.get("request_id"), "notes": list(patient.notes)})
    return patient


def _evaluation_time(envelope: dict[str, Any]) -> datetime:
    """Now, or the moment the request's extension names (to reproduce or audit an answer)."""
    extension = envelope.get("extension")
    written = extension.get(EVALUATION_TIME_EXTENSION) if isinstance(extension, dict) else None
    if written is None:
        return datetime.now(timezone.utc)
    try:
        moment = datetime.fromisoformat(str(written).replace("Z", "+00:00"))
    except ValueError:
        raise InputError({f"extension.{EVALUATION_TIME_EXTENSION}": ["must be an ISO 8601 date or date-time"]}) from None
    if not 1900 <= moment.year <= 9998:
        raise InputError({f"extension.{EVALUATION_TIME_EXTENSION}": ["must be a year from 1900 to 9998"]})
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def _safety_cards(service: Service, envelope: dict[str, Any], filled: dict[str, Any],
                  now: datetime) -> tuple[list[dict], list[IssuedCard]]:
    """The opioid-safety pack (CDC Recommendation 11) on the prefetch's FHIR resources."""
    base_url = current_app.config.get("PUBLIC_BASE_URL") or request.url_root.rstrip("/")
    patient_id = str(envelope["context"].get("patientId") or "").rsplit("/", 1)[-1] or None
    try:
        evaluation = opioid_safety().evaluate(filled.values(), now.date(), patient_id)
    except ChartError as error:
        raise InputError({"prefetch": [str(error)]}, "Unusable FHIR data") from None
    except (TypeError, ValueError, AttributeError, KeyError) as error:
        # FHIR of a shape no R4 resource has: a 400, not a 500 (as for the LDN services)
        current_app.logger.info("unreadable fhir", extra={"request_id": g.get("request_id"),
                                                           "error_type": type(error).__name__})
        raise InputError({"prefetch": ["FHIR data of an unexpected shape; check it against FHIR R4"]},
                         "Unusable FHIR data") from None
    context = CardContext(base_url, envelope["context"].get("patientId"), None, None)
    return _issued(service, envelope, [(None, alert) for alert in evaluation.alerts], context, now)


@bp.post("/<service_id>/feedback")
def feedback(service_id: str) -> Response:
    _service(service_id)
    _authenticate(service_path=f"{bp.url_prefix}/{service_id}")
    # Invalid feedback and cards this service never issued are InputErrors: 400 naming the path.
    try:
        stored = _hooks()["feedback"].record_feedback(service_id, json_body())
    except SQLAlchemyError as error:
        current_app.logger.error("feedback store unavailable",
                                 extra={"request_id": g.get("request_id"), "error_type": type(error).__name__})
        return problem(503, "Service Unavailable", "Feedback could not be stored now; send it again later.")
    return jsonify({"received": len(stored)})


def _envelope(body: dict[str, Any], service: Service) -> dict[str, Any]:
    body = _repaired(body)
    try:
        envelope = _HOOK_REQUEST.load(body)
    except ValidationError as error:
        raise InputError(flatten_errors(error.messages)) from None
    envelope["hook"] = _LEGACY_HOOKS.get(envelope["hook"], envelope["hook"])
    if envelope["hook"] != service.hook:
        raise InputError({"hook": [f"this service answers {service.hook!r}, not {envelope['hook']!r}"]})
    envelope["prefetch"] = envelope.get("prefetch") or {}
    return envelope


def _repaired(body: dict[str, Any]) -> dict[str, Any]:
    """Tolerate published legacy shapes: prefetch inside context, resources beside prefetch."""
    body = dict(body)
    context = body.get("context")
    if body.get("prefetch") is not None and not isinstance(body["prefetch"], dict):
        raise InputError({"prefetch": ["must be an object of prefetch keys"]})
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
        if isinstance(value, dict) and "resourceType" not in value and isinstance(value.get("resource"), dict):
            value = value["resource"]  # a prefetch item wrapped as {"response": ..., "resource": ...}
        if not isinstance(value, dict):
            continue
        if isinstance(value.get("resourceType"), str):
            types.add(value["resourceType"])
        entries = value.get("entry")
        for entry in entries if isinstance(entries, list) else ():
            if isinstance(entry, dict) and isinstance(entry.get("resource"), dict) \
                    and isinstance(entry["resource"].get("resourceType"), str):
                types.add(entry["resource"]["resourceType"])
    return types


def _cards(service: Service, envelope: dict[str, Any], patient: Any,
           now: datetime) -> tuple[list[dict], list[IssuedCard]]:
    base_url = current_app.config.get("PUBLIC_BASE_URL") or request.url_root.rstrip("/")
    # The EHR's clock may run ahead of ours: results "from the future" are left out (and logged).
    known, clipped = clip_to(patient.request, now)
    if clipped:
        current_app.logger.info("fhir data left out", extra={"request_id": g.get("request_id"), "notes": clipped})
    drafts = [d for d in patient.draft_orders if d.entry is not None]
    selected = [d for d in drafts if not patient.selections
                or f"{d.resource_type}/{d.resource_id}" in patient.selections]
    checks = order_checks(known, drafts, selected)
    if service.hook == "patient-view":
        checks += therapy_reviews(known, evaluator(), now)
    try:
        found = evaluate_checks(evaluator(), known, checks, now)
    except ValidationError as error:
        raise InputError({"context": [f"{path}: {', '.join(reasons)}"
                                      for path, reasons in flatten_errors(error.messages).items()]},
                         "Unusable FHIR data") from None
    context = CardContext(base_url, envelope["context"].get("patientId"), None, None)
    return _issued(service, envelope, found, context, now)


def _issued(service: Service, envelope: dict[str, Any], found: list[tuple[Any, Any]], context: CardContext,
            now: datetime) -> tuple[list[dict], list[IssuedCard]]:
    """A card per alert (about its draft order, if any), and the record of each card for feedback."""
    cards: list[dict] = []
    issued: list[IssuedCard] = []
    for draft, alert in found:
        reference = f"{draft.resource_type}/{draft.resource_id}" if draft and draft.resource_id else None
        made = card(alert, CardContext(context.base_url, context.patient_id, draft.resource if draft else None,
                                       reference), now.date())
        cards.append(made)
        issued.append(IssuedCard(uuid=made["uuid"], service_id=service.id, rule_id=alert.rule.id,
                                 rule_version=alert.rule.version, hook_instance=envelope["hookInstance"],
                                 suggestion_ids=tuple(s["uuid"] for s in made.get("suggestions", ())),
                                 issued_at=now))
    return cards, issued


def _precondition_failed() -> Response:
    return problem(412, "Precondition Failed",
                   "Prefetch data is missing and the FHIR server could not be read (send the prefetch, or "
                   "fhirServer with fhirAuthorization).")
