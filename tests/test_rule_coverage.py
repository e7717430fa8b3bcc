"""Every rule in the rulebook is specified in features/*.feature: where it fires and where it must not.

A rule counts as covered when a scenario that runs (not tagged @skip) has a step
"alert <id> is raised" and another has "alert <id> is not raised". Scenario Outlines count per
Examples row: "alert <rule> is <outcome>" is read with each row's values. Any rule id written in
a feature file (steps, tables, comments) must exist in the rulebook.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from gherkin.parser import Parser

from cds.opioid_safety import OpioidSafety
from cds.rulebook import load_rulebook
from test_features import AREAS

FEATURES = Path(__file__).resolve().parent.parent / "features"
RULE_ID = re.compile(r"\b(?:LDN|CDC)-[A-Z0-9]+-\d{3}\b")
OUTCOME = re.compile(r"^alert (?P<rule>(?:LDN|CDC)-[A-Z0-9]+-\d{3}) is (?P<outcome>raised|not raised)\b")
PLACEHOLDER = re.compile(r"<(.+?)>")  # as pytest-bdd renders Scenario Outlines
NOT_RUN = {"@skip"}


@dataclass(frozen=True)
class Outcome:
    rule: str
    raised: bool
    where: str  # "file.feature:line"


@dataclass(frozen=True)
class Scenario:
    name: str
    tags: frozenset[str]
    where: str
    steps: tuple[str, ...]  # every step text, once per Examples row, placeholders filled in


def _parse(path: Path) -> dict:
    return Parser().parse(path.read_text(encoding="utf-8"))


def _children(node: dict) -> Iterator[tuple[dict, frozenset[str]]]:
    """Scenarios of a feature, with Rule blocks opened, each with the tags it inherits."""
    for child in node.get("children", ()):
        if "rule" in child:
            rule_tags = frozenset(t["name"] for t in child["rule"].get("tags", ()))
            for scenario, tags in _children(child["rule"]):
                yield scenario, tags | rule_tags
        elif "scenario" in child:
            yield child["scenario"], frozenset(t["name"] for t in child["scenario"].get("tags", ()))


def _rows(scenario: dict) -> list[dict[str, str]]:
    rows = []
    for examples in scenario.get("examples", ()):
        header = [cell["value"] for cell in examples["tableHeader"]["cells"]]
        rows += [dict(zip(header, (c["value"] for c in row["cells"]), strict=True))
                 for row in examples.get("tableBody", ())]
    return rows or [{}]


def _render(text: str, row: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: row.get(m.group(1), m.group(0)), text)


def scenarios(path: Path) -> list[Scenario]:
    document = _parse(path)
    feature = document["feature"]
    feature_tags = frozenset(t["name"] for t in feature.get("tags", ()))
    found = []
    for scenario, tags in _children(feature):
        texts = tuple(_render(step["text"], row) for row in _rows(scenario) for step in scenario["steps"])
        found.append(Scenario(scenario["name"], tags | feature_tags,
                              f"{path.name}:{scenario['location']['line']}", texts))
    return found


def outcomes(paths: list[Path] | None = None) -> list[Outcome]:
    """Every "alert X is (not) raised" step of the scenarios that run."""
    found = []
    for path in paths if paths is not None else sorted(FEATURES.glob("*.feature")):
        for scenario in scenarios(path):
            if scenario.tags & NOT_RUN:
                continue
            for text in scenario.steps:
                match = OUTCOME.match(text)
                if match:
                    found.append(Outcome(match["rule"], match["outcome"] == "raised", scenario.where))
    return found


@pytest.fixture(scope="module")
def rule_ids() -> set[str]:
    return {rule.id for rule in (*load_rulebook().rules, *OpioidSafety().rulebook.rules)}


def test_every_rule_has_a_scenario_where_it_fires(rule_ids: set[str]) -> None:
    fired = {o.rule for o in outcomes() if o.raised}
    missing = sorted(rule_ids - fired)
    assert not missing, f"no running scenario says 'alert X is raised' for: {', '.join(missing)}"


def test_every_rule_has_a_scenario_where_it_must_not_fire(rule_ids: set[str]) -> None:
    silent = {o.rule for o in outcomes() if not o.raised}
    missing = sorted(rule_ids - silent)
    assert not missing, f"no running scenario says 'alert X is not raised' for: {', '.join(missing)}"


def test_features_name_only_rules_that_exist(rule_ids: set[str]) -> None:
    unknown = []
    for path in sorted(FEATURES.glob("*.feature")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            unknown += [f"{path.name}:{number}: {rule}" for rule in RULE_ID.findall(line) if rule not in rule_ids]
    assert not unknown, "rule ids that are not in the rulebook:\n" + "\n".join(unknown)


def test_outline_placeholders_in_alert_steps_are_all_filled() -> None:
    # "alert <rule> is <outcome>" with a column missing from Examples would never be counted.
    unfilled = [f"{s.where}: {text}" for path in sorted(FEATURES.glob("*.feature")) for s in scenarios(path)
                for text in s.steps if text.startswith("alert ") and PLACEHOLDER.search(text)]
    assert not unfilled, "alert steps with placeholders no Examples column fills:\n" + "\n".join(unfilled)


def test_every_scenario_carries_a_registered_rule_area_tag(pytestconfig: pytest.Config) -> None:
    registered = {line.split(":", 1)[0].strip() for line in pytestconfig.getini("markers")}
    areas = registered - {"slow"}
    untagged = [f"{s.where} {s.name}" for path in sorted(FEATURES.glob("*.feature")) for s in scenarios(path)
                if not {tag.lstrip("@") for tag in s.tags} & areas]
    assert not untagged, "scenarios without a rule-area tag:\n" + "\n".join(untagged)


def test_every_feature_file_is_bound_to_pytest() -> None:
    on_disk = {path.stem for path in FEATURES.glob("*.feature")}
    assert on_disk == set(AREAS), (
        f"tests/test_features.py AREAS and features/*.feature differ: "
        f"not bound {sorted(on_disk - set(AREAS))}, missing file {sorted(set(AREAS) - on_disk)}")


def test_the_parser_reads_outline_rows_the_way_pytest_bdd_does(tmp_path: Path) -> None:
    # A guard for this file's own parsing: Outline rows are counted, @skip scenarios are not.
    feature = tmp_path / "x.feature"
    feature.write_text(
        "Feature: x\n"
        "  @dose\n  Scenario Outline: o\n    Then alert <rule> is <outcome>\n"
        "    Examples:\n      | rule | outcome |\n      | LDN-A-001 | raised |\n      | LDN-B-001 | not raised |\n"
        "  @dose @skip\n  Scenario: s\n    Then alert LDN-C-001 is raised\n",
        encoding="utf-8")
    assert scenarios(feature)[0].steps == ("alert LDN-A-001 is raised", "alert LDN-B-001 is not raised")
    assert [(o.rule, o.raised) for o in outcomes([feature])] == [("LDN-A-001", True), ("LDN-B-001", False)]
