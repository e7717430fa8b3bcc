"""Shared fixtures (flaskr style): one Evaluator per test session, app, client, runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import settings
from flask.testing import FlaskClient, FlaskCliRunner

from cds import create_app
from cds.opioid_safety import OpioidSafety
from cds.service import Evaluator

# Property tests are deterministic: the same examples on every run and machine, no example database.
settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.load_profile("deterministic")


@pytest.fixture(scope="session")
def evaluator() -> Evaluator:
    # Rules and terminology load once, as in production.
    return Evaluator()


@pytest.fixture(scope="session")
def opioid_safety() -> OpioidSafety:
    return OpioidSafety()


@pytest.fixture()
def app(evaluator: Evaluator, opioid_safety: OpioidSafety, tmp_path: Path) -> Iterator[Flask]:
    # Feedback goes to a fresh SQLite file per test; CDS Hooks JWT checks are tested with their own app.
    yield create_app({"TESTING": True, "EVALUATOR": evaluator, "OPIOID_SAFETY": opioid_safety, "HOOKS_AUTH": "off",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'feedback.sqlite3'}"})


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
