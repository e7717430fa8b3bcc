"""The rule catalogue for people: every rule of both rulebooks, grouped by category, each with the
Gherkin scenarios of `features/*.feature` that name it (read with gherkin-official's parser).

Feature files are read once per process: they change with a release, as the rules do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from gherkin.parser import Parser

from ..rulebook import CATEGORIES, Rule, Rulebook

FEATURES_DIR = Path(__file__).resolve().parents[2] / "features"
RULE_ID = re.compile(r"\b(?:LDN|CDC)-[A-Z0-9]+-\d{3}\b")
NOT_RUN = "@skip"


@dataclass(frozen=True, slots=True)
class ScenarioStep:
    keyword: str  # "Given", "And", ...
    text: str
    table: tuple[tuple[str, ...], ...] = ()  # a data table, header first
    background: bool = False  # from the feature's (or rule block's) Background


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    where: str  # "opioid-washout.feature:30"
    tags: tuple[str, ...]
    steps: tuple[ScenarioStep, ...]
    examples: tuple[tuple[tuple[str, ...], ...], ...]  # Examples tables, header first
    rules: frozenset[str]  # the rule ids it names anywhere

    @property
    def runs(self) -> bool:
        return NOT_RUN not in self.tags


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
    found: dict[str, list[Scenario]] = {}
    for scenario in scenarios(sorted(FEATURES_DIR.glob("*.feature"))):
        for rule in sorted(scenario.rules):
            found.setdefault(rule, []).append(scenario)
    return {rule: tuple(items) for rule, items in found.items()}


def scenarios(paths: Sequence[Path]) -> list[Scenario]:
    """Every scenario of the feature files, Background steps first, Rule blocks opened."""
    found = []
    for path in paths:
        feature = Parser().parse(path.read_text(encoding="utf-8"))["feature"]
        tags = tuple(tag["name"] for tag in feature.get("tags", ()))
        found += [_scenario(node, path.name, tags + more, background)
                  for node, more, background in _children(feature, ())]
    return found


def _children(node: Mapping[str, Any], background: tuple[ScenarioStep, ...]
              ) -> Iterator[tuple[Mapping[str, Any], tuple[str, ...], tuple[ScenarioStep, ...]]]:
    for child in node.get("children", ()):
        if "background" in child:
            background = background + tuple(_step(step, True) for step in child["background"]["steps"])
        elif "rule" in child:
            rule_tags = tuple(tag["name"] for tag in child["rule"].get("tags", ()))
            for scenario, tags, steps in _children(child["rule"], background):
                yield scenario, rule_tags + tags, steps
        elif "scenario" in child:
            yield child["scenario"], tuple(tag["name"] for tag in child["scenario"].get("tags", ())), background


def _scenario(node: Mapping[str, Any], file: str, tags: tuple[str, ...],
              background: tuple[ScenarioStep, ...]) -> Scenario:
    steps = background + tuple(_step(step) for step in node["steps"])
    examples = tuple(_examples(table) for table in node.get("examples", ()) if table.get("tableHeader"))
    words = [node["name"], *(s.text for s in steps), *(cell for s in steps for row in s.table for cell in row),
             *(cell for table in examples for row in table for cell in row)]
    return Scenario(node["name"], f"{file}:{node['location']['line']}", tuple(dict.fromkeys(tags)), steps, examples,
                    frozenset(rule for text in words for rule in RULE_ID.findall(text)))


def _step(step: Mapping[str, Any], background: bool = False) -> ScenarioStep:
    rows = (step.get("dataTable") or {}).get("rows", ())
    table = tuple(tuple(cell["value"] for cell in row["cells"]) for row in rows)
    return ScenarioStep(step["keyword"].strip(), step["text"], table, background)


def _examples(table: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
    header = tuple(cell["value"] for cell in table["tableHeader"]["cells"])
    return (header, *(tuple(cell["value"] for cell in row["cells"]) for row in table.get("tableBody", ())))
