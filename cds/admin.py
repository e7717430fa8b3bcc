"""`/v1/admin`: operations on the running service (reloading the rule set). Off unless configured."""

from __future__ import annotations

from flask import Blueprint, Flask

bp = Blueprint("admin", __name__, url_prefix="/v1/admin")


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
