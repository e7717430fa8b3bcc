"""`/healthz`: the process is up and its rules are loaded."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from . import __version__
from .api import rulebooks

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Response:
    return jsonify({"status": "ok", "version": __version__, "rules": sum(len(book.rules) for book in rulebooks())})
