"""Structured request logs: a request id on every line and in the response, no PHI."""

from __future__ import annotations

import json
import logging

import pytest
from flask.testing import FlaskClient

from cds.logs import JsonFormatter


@pytest.fixture()
def captured(app) -> list[dict]:
    records: list[dict] = []

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(json.loads(JsonFormatter().format(record)))

    handler = Capture()
    app.logger.addHandler(handler)
    yield records
    app.logger.removeHandler(handler)


def test_each_request_is_logged_once_with_its_id_and_no_patient_data(client: FlaskClient, captured: list[dict]) -> None:
    body = {"patient": {"birthDate": "1931-07-19", "sex": "female"},
            "order": {"text": "LDN 4.5 mg qhs"}, "medications": [{"text": "Percocet 5/325 1 q6h prn"}]}
    response = client.post("/v1/evaluate", json=body, headers={"X-Request-ID": "req-123"})
    assert response.headers["X-Request-ID"] == "req-123"
    [entry] = [r for r in captured if r["message"] == "request"]
    assert entry["request_id"] == "req-123"
    assert entry["path"] == "/v1/evaluate" and entry["status"] == 200 and entry["alerts"] >= 1
    assert set(entry) == {"time", "level", "logger", "message", "request_id", "method", "path", "status", "ms",
                          "alerts"}
    text = json.dumps(captured)
    for phi in ("Percocet", "1931", "female", "LDN 4.5"):
        assert phi not in text


def test_a_missing_or_unsafe_request_id_is_replaced(client: FlaskClient) -> None:
    generated = client.get("/healthz").headers["X-Request-ID"]
    assert len(generated) == 32
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id; <script>"}).headers["X-Request-ID"]
    assert unsafe != "bad id; <script>" and len(unsafe) == 32
