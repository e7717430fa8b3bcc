"""The rule catalogue for people: every rule of both rulebooks, grouped by category, each with the
Gherkin scenarios of `features/*.feature` that name it (read by `cds.governance.specs`).

Feature files are read once per process: they change with a release, as the rules do.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from ..governance.specs import Scenario, ScenarioStep, by_rule, scenarios
from ..rulebook import CATEGORIES, Rule, Rulebook

__all__ = ["Category", "Scenario", "ScenarioStep", "catalogue", "scenarios", "scenarios_for"]


@dataclass(frozen=True, slots=True)
class Category:
    name: str
    title: str  # "Opioid conflict"
    rules: tuple[Rule, ...]


def catalogue(rulebooks: Iterable[Rulebook]) -> tuple[Category, ...]:
    """The categories in the rulebook's order, each with its rules in file order."""
    rules = [rule for book in rulebooks for rule in book.rules]
    return tuple(Category(name, name.replace("-", " ").capitalize(), tuple(r for r in rules if r.category == name))
                 for name in CATEGORIES if any(r.category == name for r in rules))


def scenarios_for(rule_id: str) -> tuple[Scenario, ...]:
    return _by_rule().get(rule_id, ())


@lru_cache(maxsize=1)
def _by_rule() -> Mapping[str, tuple[Scenario, ...]]:
    return by_rule(scenarios())
