"""RFC 9457 problem details: every error response is `application/problem+json`.

Clients get a `title`, the HTTP `status`, a `detail` in words and, for invalid input, `errors`
mapping each field path to its reasons. No traceback ever reaches a client.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, g, json
from werkzeug.exceptions import HTTPException

from .exceptions import InputError

PROBLEM_JSON = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    request_id = g.get("request_id")
    if request_id:
        body["requestId"] = request_id
    return Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)


def register(app: Flask) -> None:
    @app.errorhandler(InputError)
    def _input(error: InputError) -> Response:
        fields = ", ".join(sorted(error.errors))
        return problem(400, error.title, f"Invalid fields: {fields}", errors=error.errors)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        detail = error.description or error.name
        if error.code == 413:
            limit = app.config.get("MAX_CONTENT_LENGTH")
            detail = f"The request body is larger than the limit of {limit} bytes."
        response = problem(error.code or 500, error.name, detail)
        if error.code == 405 and error.valid_methods:  # type: ignore[attr-defined]
            response.headers["Allow"] = ", ".join(error.valid_methods)  # type: ignore[attr-defined]
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        app.logger.exception("unhandled error", extra={"error_type": type(error).__name__})
        return problem(500, "Internal Server Error",
                       "The service could not complete this request; it has been logged.")
