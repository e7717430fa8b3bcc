"""`/healthz`: the process is up and its rules are loaded."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify

from . import __version__

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    evaluator = current_app.extensions["ldn_cds"]
    return jsonify({"status": "ok", "version": __version__, "rules": len(evaluator.rulebook.rules)})
