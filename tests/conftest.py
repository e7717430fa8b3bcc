"""Shared fixtures (flaskr style): one Evaluator per test session, app, client, runner."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import settings
from flask.testing import FlaskClient, FlaskCliRunner

from cds import create_app
from cds.opioid_safety import OpioidSafety
from cds.rulebook import RULES_DIR
from cds.ruleset import RuleSet, load_ruleset
from cds.service import Evaluator

# Property tests are deterministic: the same examples on every run and machine, no example database.
settings.register_profile("deterministic", derandomize=True, database=None, deadline=None)
settings.load_profile("deterministic")


@pytest.fixture(scope="session")
def ruleset() -> RuleSet:
    # Rules and terminology load once, as in production. LDN_CDS_RULES_DIR: the specs of a copy of
    # rules/ (`ldn-cds rules test`, a reload); site settings never apply here (the specs are the
    # rule files' own).
    return load_ruleset(Path(os.environ.get("LDN_CDS_RULES_DIR") or RULES_DIR))


@pytest.fixture(scope="session")
def evaluator(ruleset: RuleSet) -> Evaluator:
    return ruleset.evaluator


@pytest.fixture(scope="session")
def opioid_safety(ruleset: RuleSet) -> OpioidSafety:
    return ruleset.opioid_safety


@pytest.fixture()
def app(ruleset: RuleSet, tmp_path: Path) -> Iterator[Flask]:
    # Feedback goes to a fresh SQLite file per test; CDS Hooks JWT checks are tested with their own app.
    yield create_app({"TESTING": True, "RULESET": ruleset, "HOOKS_AUTH": "off",
                      "DATABASE_URL": f"sqlite:///{tmp_path / 'feedback.sqlite3'}"})


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()
