"""Filling missing prefetch from a real FHIR server on loopback (bearer token, paging, failures)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from cds.hooks.prefetch import PrefetchUnavailable, complete, render

TOKEN = "opaque-fhir-token"


class FhirServer:
    """A tiny FHIR server: Patient/p1, a two-page MedicationRequest search, empty other searches, and
    failures on demand."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []
        self.foreign_next = False  # page 1 links to another server (which must not get the token)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                server.requests.append((self.path, self.headers.get("Authorization")))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    return self._send(401, {"resourceType": "OperationOutcome"})
                if self.path == "/fhir/Patient/p1":
                    return self._send(200, {"resourceType": "Patient", "id": "p1", "gender": "female"})
                if self.path.startswith("/fhir/MedicationRequest?patient=p1"):
                    following = f"http://127.0.0.1:{server.port}/" + ("steal" if server.foreign_next else "fhir/page2")
                    return self._send(200, _page(1, following))
                if self.path == "/fhir/page2":
                    return self._send(200, _page(2, None))
                if self.path.startswith("/fhir/Broken"):
                    return self._send(500, {"resourceType": "OperationOutcome"})
                if "?" in self.path:  # any other search finds nothing
                    return self._send(200, {"resourceType": "Bundle", "type": "searchset", "entry": []})
                return self._send(404, {"resourceType": "OperationOutcome"})

            def _send(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/fhir+json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/fhir"


def _page(number: int, following: str | None) -> dict[str, Any]:
    drug = {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "7804"}],
            "text": "oxycodone 5 mg every 6 hours"} if number == 1 else {"text": "metformin 500 mg twice daily"}
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "searchset", "entry": [
        {"resource": {"resourceType": "MedicationRequest", "id": f"mr{number}", "status": "active",
                      "intent": "order", "subject": {"reference": "Patient/p1"},
                      "medicationCodeableConcept": drug}}]}
    if following:
        bundle["link"] = [{"relation": "next", "url": following}]
    return bundle


@pytest.fixture()
def fhir() -> Iterator[FhirServer]:
    server = FhirServer()
    thread = threading.Thread(target=server.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


TEMPLATES = {"patient": "Patient/{{context.patientId}}",
             "medications": "MedicationRequest?patient={{context.patientId}}&status=active"}
CONTEXT = {"patientId": "p1", "userId": "Practitioner/x"}
AUTH = {"access_token": TOKEN, "token_type": "Bearer", "expires_in": 300, "scope": "user/*.read", "subject": "ldn"}


def test_templates_take_the_context_values() -> None:
    assert render("Patient/{{context.patientId}}", CONTEXT) == "Patient/p1"
    assert render("Condition?patient={{ context.patientId }}", CONTEXT) == "Condition?patient=p1"
    with pytest.raises(PrefetchUnavailable, match="context.encounterId"):
        render("Encounter/{{context.encounterId}}", CONTEXT)


def test_missing_prefetch_is_read_with_the_bearer_token_following_pages(fhir: FhirServer) -> None:
    filled = complete(TEMPLATES, {}, CONTEXT, fhir.url, AUTH, [fhir.url])
    assert filled["patient"]["id"] == "p1"
    assert [e["resource"]["id"] for e in filled["medications"]["entry"]] == ["mr1", "mr2"]
    assert all(auth == f"Bearer {TOKEN}" for _, auth in fhir.requests)
    assert len(fhir.requests) == 3


def test_what_the_client_sent_is_not_fetched_again(fhir: FhirServer) -> None:
    sent = {"patient": {"resourceType": "Patient", "id": "p1"}, "medications": None}
    assert complete(TEMPLATES, sent, CONTEXT, fhir.url, AUTH, [fhir.url]) == sent
    assert fhir.requests == []


def test_without_a_fhir_server_or_token_missing_prefetch_is_unavailable(fhir: FhirServer) -> None:
    with pytest.raises(PrefetchUnavailable):
        complete(TEMPLATES, {}, CONTEXT, None, AUTH)
    with pytest.raises(PrefetchUnavailable):
        complete(TEMPLATES, {}, CONTEXT, fhir.url, None)


@pytest.mark.parametrize("template", ["Broken?patient={{context.patientId}}", "Patient/{{context.patientId}}"])
def test_a_failing_server_is_unavailable_not_an_error(fhir: FhirServer, template: str) -> None:
    with pytest.raises(PrefetchUnavailable):
        complete({"x": template}, {}, CONTEXT, fhir.url, {**AUTH, "access_token": "wrong"}, [fhir.url])
    with pytest.raises(PrefetchUnavailable):
        complete({"x": "Broken?patient={{context.patientId}}"}, {}, CONTEXT, fhir.url, AUTH, [fhir.url])


def test_an_unreachable_server_is_unavailable() -> None:
    with pytest.raises(PrefetchUnavailable):
        complete(TEMPLATES, {}, CONTEXT, "http://127.0.0.1:9/fhir", AUTH, ["http://127.0.0.1:9/fhir"])


def test_the_token_only_goes_to_an_allow_listed_server(fhir: FhirServer) -> None:
    with pytest.raises(PrefetchUnavailable, match="allow-list"):
        complete(TEMPLATES, {}, CONTEXT, fhir.url, AUTH, [])
    with pytest.raises(PrefetchUnavailable, match="allow-list"):
        complete(TEMPLATES, {}, CONTEXT, fhir.url + "-evil", AUTH, [fhir.url])
    assert fhir.requests == []


@pytest.mark.parametrize("patient_id", ["../admin/secret", "p1&_include=*", "p1?x", ""])
def test_context_values_must_be_fhir_ids(fhir: FhirServer, patient_id: str) -> None:
    with pytest.raises(PrefetchUnavailable, match="FHIR id"):
        complete(TEMPLATES, {}, {"patientId": patient_id}, fhir.url, AUTH, [fhir.url])
    assert fhir.requests == []


def test_a_next_link_to_another_server_is_not_followed(fhir: FhirServer) -> None:
    fhir.foreign_next = True
    with pytest.raises(PrefetchUnavailable, match="leaves the FHIR server"):
        complete({"m": "MedicationRequest?patient={{context.patientId}}"}, {}, CONTEXT, fhir.url, AUTH, [fhir.url])
    assert all(not path.startswith("/steal") for path, _ in fhir.requests)
