"""Rule files: schema, clear errors at load, and compilation of the real catalogue."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from cds.rulebook import CATEGORIES, RULES_DIR, SUMMARY_LIMIT, load_rulebook
from cds.exceptions import RuleFileError

GOOD_RULE = {
    "id": "LDN-TEST-001",
    "version": "1.0.0",
    "title": "A test rule",
    "category": "renal",
    "severity": "warning",
    "parameters": {"cut_off": {"value": 30, "unit": "mL/min/1.73m2", "why": "test"}},
    "when": {"order": {"class": "naltrexone"}, "lab": {"analyte": "egfr", "value": {"below": "cut_off"}}},
    "summary": "eGFR {lab.value} below {cut_off}",
    "detail": "Detail for {order.name}.",
    "rationale": "Because.",
    "sources": ["label-naltrexone"],
}


@pytest.fixture()
def rules_dir(tmp_path: Path) -> Path:
    (tmp_path / "reference").mkdir()
    shutil.copy(RULES_DIR / "reference" / "sources.yaml", tmp_path / "reference" / "sources.yaml")
    shutil.copy(RULES_DIR / "VERSION", tmp_path / "VERSION")
    return tmp_path


def write(directory: Path, *rules: dict, name: str = "test.yaml") -> None:
    (directory / name).write_text(yaml.safe_dump({"rules": list(rules)}, allow_unicode=True, sort_keys=False), encoding="utf-8")


def problems_for(directory: Path) -> list[str]:
    with pytest.raises(RuleFileError) as raised:
        load_rulebook(directory)
    return raised.value.problems


def test_the_catalogue_loads_and_every_rule_cites_a_source() -> None:
    rulebook = load_rulebook()
    assert len(rulebook.rules) >= 30
    for rule in rulebook.rules:
        assert rule.sources, rule.id
        assert rule.category in CATEGORIES
        assert len(rule.summary) <= SUMMARY_LIMIT


def test_the_catalogue_covers_every_rule_area_of_the_facts() -> None:
    categories = {rule.category for rule in load_rulebook().rules}
    assert categories >= {"opioid-conflict", "opioid-washout", "duplicate-antagonist", "pregnancy",
                          "pregnancy-status-unknown", "lactation", "hepatic", "renal", "immunosuppression",
                          "interaction", "dose", "titration", "data-quality"}


def test_a_good_rule_compiles_with_its_parameter_in_place(rules_dir: Path) -> None:
    write(rules_dir, GOOD_RULE)
    rule = load_rulebook(rules_dir).get("LDN-TEST-001")
    assert rule is not None
    assert {"$lt": {"value": 30.0}} in rule.definition["all"][1]["lab"]["$and"]
    assert rule.conditions_in_words == ["order where class is naltrexone",
                                        "lab where analyte is egfr and value below cut_off"]


@pytest.mark.parametrize(("change", "expected"), [
    ({"severity": "severe"}, "LDN-TEST-001: severity: Must be one of: info, warning, critical."),
    ({"category": "kidneys"}, "LDN-TEST-001: category: Must be one of"),
    ({"summary": "x" * 141}, "LDN-TEST-001: summary: Length must be between 1 and 140."),
    ({"sources": ["nowhere"]}, "LDN-TEST-001: sources: unknown source 'nowhere'"),
    ({"sources": []}, "LDN-TEST-001: sources: Shorter than minimum length 1."),
    ({"version": "1"}, "LDN-TEST-001: version: must be a semantic version"),
    ({"colour": "red"}, "LDN-TEST-001: colour: Unknown field."),
    ({"when": {"order": {"klass": "naltrexone"}}}, "LDN-TEST-001: when.order.klass: order facts have no field 'klass'"),
    ({"when": {"order": {"class": "opioid"}}}, "LDN-TEST-001: when.order.class: 'opioid' is not one of"),
    ({"when": {"order": {"daily dose mg": {"over": 3}}}}, "LDN-TEST-001: when.order.daily dose mg: unknown test 'over'"),
    ({"when": {"order": {"daily dose mg": {"above": "limit"}}}}, "'limit' is neither a number nor a parameter"),
    ({"when": {"order": {"status": {"below": 3}}}}, "'below' compares numbers; this field is not a number"),
    ({"when": {"drug": {"class": "naltrexone"}}}, "when.drug: unknown fact 'drug'"),
    ({"when": {"no order": {"class": "naltrexone"}}}, "when: needs at least one fact that must exist"),
    ({"summary": "eGFR {lab.colour}"}, "summary: {lab.colour}: lab facts have no field 'colour'"),
    ({"summary": "eGFR {kidney.value}"}, "{kidney.value} names neither a fact of the rule nor a parameter"),
    ({"parameters": {"cut_off": {"value": 30, "unit": "x", "why": "y"}, "spare": {"value": 1, "unit": "x", "why": "y"}}},
     "parameters: parameter 'spare' is not used by the rule"),
])
def test_a_bad_rule_stops_loading_with_file_rule_field_and_reason(rules_dir: Path, change: dict, expected: str) -> None:
    write(rules_dir, {**GOOD_RULE, **change})
    problems = problems_for(rules_dir)
    assert any(expected in line for line in problems), problems


def test_every_problem_in_every_file_is_reported_at_once(rules_dir: Path) -> None:
    write(rules_dir, {**GOOD_RULE, "severity": "bad"}, name="a.yaml")
    write(rules_dir, {**GOOD_RULE, "id": "LDN-TEST-002", "category": "bad"}, name="b.yaml")
    problems = problems_for(rules_dir)
    assert [line.split(":")[0] for line in problems] == ["a.yaml", "b.yaml"]


def test_a_problem_points_at_the_line_of_the_field(rules_dir: Path) -> None:
    write(rules_dir, GOOD_RULE, {**GOOD_RULE, "id": "LDN-TEST-002", "when": {"order": {"klass": "naltrexone"}}})
    text = (rules_dir / "test.yaml").read_text(encoding="utf-8").splitlines()
    [problem] = problems_for(rules_dir)
    file, line, rule, message = problem.split(":", 3)
    assert (file, rule.strip()) == ("test.yaml", "LDN-TEST-002")
    assert text[int(line) - 1].strip() == "klass: naltrexone", (problem, text)


def test_a_rule_set_without_a_version_is_refused(rules_dir: Path) -> None:
    write(rules_dir, GOOD_RULE)
    (rules_dir / "VERSION").write_text("one\n", encoding="utf-8")
    assert problems_for(rules_dir) == ["VERSION:1: -: 'one' is not a semantic version like 1.2.0 (major: a rule "
                                       "removed or made quieter; minor: a rule added or a threshold changed; patch: "
                                       "wording only)"]


def test_duplicate_rule_ids_are_refused(rules_dir: Path) -> None:
    write(rules_dir, GOOD_RULE, name="a.yaml")
    write(rules_dir, GOOD_RULE, name="b.yaml")
    assert problems_for(rules_dir) == ["b.yaml:2: LDN-TEST-001: id: already used in a.yaml"]


def test_a_file_that_is_not_yaml_is_reported(rules_dir: Path) -> None:
    (rules_dir / "broken.yaml").write_text("rules: [unclosed\n", encoding="utf-8")
    assert problems_for(rules_dir)[0].startswith("broken.yaml:2: -: yaml:")


def test_the_service_refuses_to_start_with_a_bad_rule_file(rules_dir: Path) -> None:
    from cds.service import Evaluator

    write(rules_dir, {**GOOD_RULE, "severity": "bad"})
    with pytest.raises(RuleFileError, match="LDN-TEST-001: severity"):
        Evaluator(rules_dir=rules_dir)
