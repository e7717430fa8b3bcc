"""The Gherkin specifications (`features/*.feature`) as data: scenarios, the rule ids they name,
and what they expect of each rule ("alert X is raised" / "alert X is not raised").

One reader (gherkin-official's parser) for the rule catalogue, lint and the spec runner.
Scenario Outlines are read once per Examples row, with the row's values put in, as pytest-bdd runs them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gherkin.parser import Parser

FEATURES_DIR = Path(__file__).resolve().parents[2] / "features"
RULE_ID = re.compile(r"\b(?:LDN|CDC)-[A-Z0-9]+-\d{3}\b")
OUTCOME = re.compile(r"^alert (?P<rule>(?:LDN|CDC)-[A-Z0-9]+-\d{3}) is (?P<outcome>raised|not raised)\b")
PLACEHOLDER = re.compile(r"<(.+?)>")
NOT_RUN = "@skip"


@dataclass(frozen=True, slots=True)
class ScenarioStep:
    keyword: str  # "Given", "And", ...
    text: str
    table: tuple[tuple[str, ...], ...] = ()  # a data table, header first
    background: bool = False  # from the feature's (or rule block's) Background
    line: int = 0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    file: str  # "renal.feature"
    line: int
    tags: tuple[str, ...]
    steps: tuple[ScenarioStep, ...]
    examples: tuple[tuple[tuple[str, ...], ...], ...]  # Examples tables, header first
    rules: frozenset[str]  # the rule ids it names anywhere

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def runs(self) -> bool:
        return NOT_RUN not in self.tags

    @property
    def rows(self) -> list[dict[str, str]]:
        """One dict per Examples row (one empty dict for a plain Scenario)."""
        return [dict(zip(table[0], row, strict=True)) for table in self.examples for row in table[1:]] or [{}]

    def step_texts(self) -> list[str]:
        """Every step's text, once per Examples row, placeholders filled in (as pytest-bdd runs them)."""
        return [PLACEHOLDER.sub(lambda m: row.get(m.group(1), m.group(0)), step.text)
                for row in self.rows for step in self.steps]


@dataclass(frozen=True, slots=True)
class Outcome:
    rule: str
    raised: bool
    scenario: Scenario


@dataclass(frozen=True, slots=True)
class Mention:
    rule: str
    file: str
    line: int


def feature_files(directory: Path = FEATURES_DIR) -> list[Path]:
    return sorted(directory.glob("*.feature"))


def scenarios(paths: Sequence[Path] | None = None) -> list[Scenario]:
    """Every scenario of the feature files, Background steps first, Rule blocks opened."""
    found = []
    for path in feature_files() if paths is None else paths:
        feature = Parser().parse(path.read_text(encoding="utf-8"))["feature"]
        if not feature:
            continue
        tags = tuple(tag["name"] for tag in feature.get("tags", ()))
        found += [_scenario(node, path.name, tags + more, background)
                  for node, more, background in _children(feature, ())]
    return found


def outcomes(found: Iterable[Scenario]) -> list[Outcome]:
    """Every "alert X is (not) raised" step of the scenarios that run."""
    return [Outcome(match["rule"], match["outcome"] == "raised", scenario)
            for scenario in found if scenario.runs
            for text in scenario.step_texts() if (match := OUTCOME.match(text))]


def mentions(paths: Sequence[Path] | None = None) -> list[Mention]:
    """Every rule id written in the feature files (steps, tables, comments), with its line."""
    return [Mention(rule, path.name, number)
            for path in (feature_files() if paths is None else paths)
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
            for rule in RULE_ID.findall(line)]


def by_rule(found: Iterable[Scenario]) -> dict[str, tuple[Scenario, ...]]:
    grouped: dict[str, list[Scenario]] = {}
    for scenario in found:
        for rule in sorted(scenario.rules):
            grouped.setdefault(rule, []).append(scenario)
    return {rule: tuple(items) for rule, items in grouped.items()}


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
    return Scenario(node["name"], file, node["location"]["line"], tuple(dict.fromkeys(tags)), steps, examples,
                    frozenset(rule for text in words for rule in RULE_ID.findall(text)))


def _step(step: Mapping[str, Any], background: bool = False) -> ScenarioStep:
    rows = (step.get("dataTable") or {}).get("rows", ())
    table = tuple(tuple(cell["value"] for cell in row["cells"]) for row in rows)
    return ScenarioStep(step["keyword"].strip(), step["text"], table, background, step["location"]["line"])


def _examples(table: Mapping[str, Any]) -> tuple[tuple[str, ...], ...]:
    header = tuple(cell["value"] for cell in table["tableHeader"]["cells"])
    return (header, *(tuple(cell["value"] for cell in row["cells"]) for row in table.get("tableBody", ())))
