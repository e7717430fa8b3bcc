"""The benchmark's own tools (bench/): the request it sends, its load generator, its table and
its server handling. Fast checks of correctness, never timings."""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from flask.testing import FlaskClient

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # bench/ is not an installed package

from bench import http as bench_http  # noqa: E402
from bench.table import Row, Section, at_least, at_most, markdown, number, terminal  # noqa: E402
from cds.hooks.fhir import read_hook  # noqa: E402

pytestmark = pytest.mark.skipif(not bench_http.EXAMPLES.is_dir(), reason="shared CDS Hooks examples not present")


def test_the_benchmark_request_is_read_whole_and_answered_with_cards(client: FlaskClient) -> None:
    body = bench_http.order_sign_request()
    patient = read_hook("order-sign", body["context"], body["prefetch"])
    assert patient.notes == ()  # nothing in it is left unread
    assert [len(patient.request[k]) for k in ("medications", "conditions", "labs")] == [10, 5, 5]
    [draft] = patient.draft_orders
    assert draft.entry["code"] == "7243" and draft.entry["dose"] == {"value": 4.5, "unit": "mg"}
    response = client.post(bench_http.SERVICE_PATH, json=body)
    assert response.status_code == 200
    rules = {card["links"][0]["url"].rsplit("/", 1)[1] for card in response.get_json()["cards"]}
    assert {"LDN-OPI-001", "LDN-WASH-001", "LDN-TIT-001"} <= rules


class _Handler(BaseHTTPRequestHandler):
    status = 200

    def do_POST(self) -> None:  # noqa: N802 (the standard library's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@pytest.fixture()
def echo_port() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_closed_loop_counts_every_answered_request(echo_port: int) -> None:
    result = bench_http.generate(echo_port, "/x", b'{"a": 1}' * 1000, seconds=0.3, concurrency=3)
    assert result.errors == 0 and result.completed > 10
    assert 0 < result.p50_ms <= result.p99_ms <= result.max_ms


def test_open_loop_sends_on_its_timetable(echo_port: int) -> None:
    result = bench_http.generate(echo_port, "/x", b"{}", seconds=0.5, rate=100)
    assert result.errors == 0 and result.completed == 50  # every scheduled request, none more
    assert result.mode == "open" and result.start_lag_ms < 100


def test_answers_other_than_200_are_errors(echo_port: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_Handler, "status", 500)
    result = bench_http.generate(echo_port, "/x", b"{}", seconds=0.2, concurrency=1)
    assert result.completed == 0 and result.errors > 0


def test_a_refused_connection_is_an_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # nothing listens there
    result = bench_http.generate(port, "/x", b"{}", seconds=0.1, concurrency=1)
    assert result.completed == 0 and result.errors > 0


def test_gunicorn_and_its_workers_are_gone_after_the_block(tmp_path: Path) -> None:
    with bench_http.Gunicorn(bench_http.ECHO_APP, {}, tmp_path / "echo.log", workers=1) as server:
        status, answer = server.request("POST", bench_http.SERVICE_PATH, b'{"echo": [1, 2]}')
        group = server.process.pid
        assert (status, answer.strip()) == (200, b'{"echo":[1,2]}')
    with pytest.raises(ProcessLookupError):
        os.killpg(group, 0)  # no process of the group is left


def test_the_table_aligns_and_says_whether_targets_are_met() -> None:
    assert [number(v) for v in (0.8181, 5.46, 17.84, 244.4, 1370.2)] == ["0.818", "5.46", "17.8", "244", "1,370"]
    assert at_most(0.5, 0.8, "ms") == ("<= 0.500 ms", "MISSED (1.60x target)")
    assert at_least(50, 60, "%") == (">= 50.0 %", "met (1.20x target)")
    sections = [Section("one", [Row("a", 1.0, "ms", *at_most(2, 1.0, "ms")), Row("longer measure", 1234.0, "req/s")],
                        ["a note"]), Section("two", [Row("b", 0.5, "x")])]
    lines = terminal(sections).splitlines()
    assert lines[0].startswith("measure") and lines[2] == "[1] one" and "[2] two" in lines
    value_end = lines[0].index("value") + len("value")
    assert all(line[value_end - 1] != " " for line in lines[3:5])  # numbers right-aligned under "value"
    table = markdown(sections).splitlines()
    assert table[2] == "| **1. one** | | | | |" and "- a note" in table
