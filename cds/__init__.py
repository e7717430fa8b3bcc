"""LDN CDS: clinical decision support for low-dose and ultra-low-dose naltrexone.

`create_app()` is the Flask application factory (gunicorn: `cds:create_app()`). Rules,
terminology and schemas are built once here, at start-up, never per request.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

__version__ = "0.1.0"

MAX_BODY_BYTES = 1_048_576  # 1 MiB: documented in openapi.yaml; larger bodies get 413


def create_app(config: dict[str, Any] | None = None) -> Flask:
    from .jsonio import FastJSONProvider
    from . import api, health, logs, plans, problems
    from .hooks import views as hooks
    from . import admin
    from .ruleset import EXTENSION, RuleSetHolder, load_ruleset, pin_ruleset
    from .rulebook import RULES_DIR
    from .web import bp as web

    app = Flask(__name__)
    app.json = FastJSONProvider(app)
    app.config.update(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    app.config.from_prefixed_env("LDN_CDS")
    if os.environ.get("DATABASE_URL") and "DATABASE_URL" not in app.config:
        app.config["DATABASE_URL"] = os.environ["DATABASE_URL"]  # the conventional name works too
    if config:
        app.config.update(config)
    app.json.sort_keys = False
    logs.configure(app)
    problems.register(app)
    # LDN_CDS_RULES_DIR (a copy of rules/) and LDN_CDS_SETTINGS (the site's settings file) are optional.
    ruleset = app.config.get("RULESET") or load_ruleset(Path(app.config.get("RULES_DIR") or RULES_DIR),
                                                         _settings_path(app.config.get("SETTINGS")))
    app.extensions[EXTENSION] = RuleSetHolder(ruleset)
    app.before_request(pin_ruleset)  # each request keeps the rule set it started with, whatever reloads
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    plans.init_app(app)
    hooks.init_app(app)
    app.register_blueprint(web)
    admin.init_app(app)
    return app


def _settings_path(value: Any) -> Path | None:
    return Path(str(value)) if value else None
