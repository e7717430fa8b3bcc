"""Binds the Gherkin rule specifications (features/*.feature) to pytest.

One feature file per rule area; the steps are generic and live in tests/bdd_steps.py.
tests/test_rule_coverage.py checks that every rule has a scenario where it fires and one where
it must not, and that this list names every feature file.
"""

from __future__ import annotations

from pytest_bdd import scenarios

from bdd_steps import *  # noqa: F403  (pytest-bdd steps are fixtures: they must be in this module)
from plan_steps import *  # noqa: F403
from safety_steps import *  # noqa: F403

AREAS = (
    "opioid-conflict",
    "opioid-washout",
    "duplicate-antagonist",
    "pregnancy",
    "hepatic",
    "renal",
    "immunosuppression",
    "interaction",
    "dose",
    "data-quality",
    "opioid-safety",
    "cds-hooks",
    "planners",
)

for _area in AREAS:
    scenarios(f"{_area}.feature")
