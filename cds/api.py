"""The JSON API, `/v1`: evaluate a patient (or a batch of them), read the rule catalogue."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from flask import Blueprint, Response, current_app, g, jsonify, render_template, request, stream_with_context
from marshmallow import ValidationError
from werkzeug.exceptions import NotFound, RequestEntityTooLarge, UnsupportedMediaType

from . import MAX_BODY_BYTES
from . import ruleset
from .exceptions import InputError
from .problems import problem
from .opioid_safety import OpioidSafety
from .rulebook import Rule, Rulebook
from .schemas import EVALUATE_REQUEST, DateOrDateTime, flatten_errors
from .service import Evaluator

NDJSON = "application/x-ndjson"
BATCH_MAX_LINES = 1_000  # evaluation requests in one batch
# A batch of requests of a few KiB each: more than one request's 1 MiB, still bounded. Each line
# is held alone (at most MAX_BODY_BYTES, as one /v1/evaluate body) and answered before the next.
BATCH_MAX_BYTES = 16 * 1024 * 1024

bp = Blueprint("v1", __name__, url_prefix="/v1")


def evaluator() -> Evaluator:
    return ruleset.current().evaluator


def opioid_safety() -> OpioidSafety:
    return ruleset.current().opioid_safety


def rulebooks() -> tuple[Rulebook, ...]:
    """The LDN rules, then the opioid-safety pack's."""
    return ruleset.current().rulebooks


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


@bp.post("/evaluate/batch")
def evaluate_batch() -> Response:
    """NDJSON in (one /v1/evaluate body a line), NDJSON out, streamed: `{"line": n, ...the answer}` or
    `{"line": n, "error": {problem details}}`; a bad line never stops the batch."""
    if request.mimetype != NDJSON:
        raise UnsupportedMediaType(
            f"Send the body as {NDJSON}, one evaluation request a line (got {request.mimetype or 'no content type'}).")
    as_of = request.args.get("asOf")
    if as_of is not None:
        try:
            DateOrDateTime().deserialize(as_of)
        except ValidationError as error:
            raise InputError({"asOf": list(error.messages)}) from None
    if (request.content_length or 0) > BATCH_MAX_BYTES:
        return _too_large()
    request.max_content_length = BATCH_MAX_BYTES  # this endpoint only; chunked bodies are cut here too
    return Response(stream_with_context(_batch(request.stream, as_of, evaluator(), g.get("request_id"))),
                    mimetype=NDJSON)


def _batch(stream: IO[bytes], as_of: str | None, service: Evaluator, request_id: str | None) -> Iterator[str]:
    requests = failed = 0
    number = 0
    try:
        for number, raw in _lines(stream):
            if raw is not None and not raw.strip():
                continue
            requests += 1
            if requests > BATCH_MAX_LINES:
                failed += 1
                yield _ndjson({"line": number, "error": _problem_body(
                    request_id, 413, "Too Many Lines", f"A batch holds at most {BATCH_MAX_LINES:,} requests; this "
                                                       f"line and those after it were not evaluated.")})
                break
            answer = _batch_line(number, raw, as_of, service, request_id)
            failed += "error" in answer
            yield _ndjson(answer)
    except RequestEntityTooLarge:  # a chunked body that grew past the limit while being read
        failed += 1
        yield _ndjson({"line": number + 1, "error": _problem_body(
            request_id, 413, "Request Entity Too Large", f"The request body is larger than the limit of "
                                                         f"{BATCH_MAX_BYTES} bytes; the lines from here on were not "
                                                         f"evaluated.")})
    current_app.logger.info("batch evaluated", extra={"request_id": request_id, "lines": requests, "failed": failed})


def _lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """(line number, bytes) for each line; None for a line over MAX_BODY_BYTES (the rest of it skipped)."""
    number = 0
    while True:
        raw = stream.readline(MAX_BODY_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_BODY_BYTES and not raw.endswith(b"\n"):
            while raw and not raw.endswith(b"\n"):
                raw = stream.readline(MAX_BODY_BYTES)
            yield number, None
            continue
        yield number, raw


def _batch_line(number: int, raw: bytes | None, as_of: str | None, service: Evaluator,
                request_id: str | None) -> dict[str, Any]:
    def invalid(errors: dict[str, list[str]], title: str = "Invalid request") -> dict[str, Any]:
        return {"line": number, "error": _problem_body(request_id, 400, title,
                                                       f"Invalid fields: {', '.join(sorted(errors))}", errors=errors)}

    if raw is None:
        return invalid({"body": [f"the line is larger than the limit of {MAX_BODY_BYTES} bytes"]})
    try:
        body = current_app.json.loads(raw)
    except (ValueError, RecursionError):
        return invalid({"body": ["is not valid JSON"]}, "Malformed JSON")
    if not isinstance(body, dict):
        return invalid({"body": ["must be a JSON object"]})
    if as_of is not None and "evaluationTime" not in body:
        body["evaluationTime"] = as_of
    try:
        data = EVALUATE_REQUEST.load(body)
    except ValidationError as error:
        return invalid(flatten_errors(error.messages))
    try:
        result = service.evaluate(data)
    except Exception as error:  # a defect: logged, and the batch goes on
        current_app.logger.exception("batch line failed", extra={"request_id": request_id, "line": number,
                                                                 "error_type": type(error).__name__})
        return {"line": number, "error": _problem_body(
            request_id, 500, "Internal Server Error", "This line could not be evaluated; it has been logged.")}
    return {"line": number, **result.to_dict()}


def _problem_body(request_id: str | None, status: int, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The body `cds.problems.problem` sends, for a line of a streamed answer."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    if request_id:
        body["requestId"] = request_id
    return body


def _ndjson(value: dict[str, Any]) -> str:
    return current_app.json.dumps(value) + "\n"


def _too_large() -> Response:
    return problem(413, "Request Entity Too Large",
                   f"The request body is larger than the limit of {BATCH_MAX_BYTES} bytes for a batch.")


@bp.get("/rules")
def rules() -> Response:
    return jsonify({"rules": [rule_view(rule) for rulebook in rulebooks() for rule in rulebook.rules]})


@bp.get("/rules/<rule_id>")
def rule(rule_id: str) -> Response | str:
    found = next((r for r in (book.get(rule_id) for book in rulebooks()) if r is not None), None)
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
