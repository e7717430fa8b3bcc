"""The HTTP benchmark's baseline: the least a Flask JSON endpoint can do with the same request.

It parses the JSON body and echoes it back as JSON, so the service's throughput can be read as a
fraction of what Flask + gunicorn give on this machine for bodies of that size.
Served as `gunicorn bench.echo_app:app` from the repository root.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


@app.post("/cds-services/<_service_id>")  # the service's URL shape, so the router does the same work
def echo(_service_id: str) -> Response:
    return jsonify(request.get_json())


@app.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok"})
