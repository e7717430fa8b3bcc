"""Rules with their Gherkin scenarios, for /rules (cds/web/catalogue.py)."""

from __future__ import annotations

from pathlib import Path

from cds.opioid_safety import OpioidSafety
from cds.rulebook import CATEGORIES
from cds.service import Evaluator
from cds.web.catalogue import catalogue, scenarios, scenarios_for

FEATURE = """\
@dose
Feature: x
  Background:
    Given the evaluation date is 2026-11-23

  Scenario: A plain one
    Given the medication list is:
      | medication | status |
      | Narcan kit | active |
    When naltrexone is ordered as "LDN 1.5 mg at bedtime"
    Then alert LDN-DUP-004 is raised

  Scenario Outline: An outline (<order>)
    When naltrexone is ordered as "<order>"
    Then alert <rule> is <outcome>

    Examples:
      | order          | rule        | outcome    |
      | LDN 6 mg daily | LDN-DOSE-002 | raised     |
      | LDN 3 mg daily | LDN-DOSE-002 | not raised |

  Rule: a block
    @skip
    Scenario: Inside a rule block
      Then alert LDN-DOSE-003 is not raised
"""


def test_scenarios_keep_background_steps_tables_examples_and_tags(tmp_path: Path) -> None:
    path = tmp_path / "x.feature"
    path.write_text(FEATURE, encoding="utf-8")
    plain, outline, ruled = scenarios([path])

    assert plain.name == "A plain one" and plain.where == "x.feature:6" and plain.tags == ("@dose",)
    assert [(s.keyword, s.text, s.background) for s in plain.steps][:2] == [
        ("Given", "the evaluation date is 2026-11-23", True), ("Given", "the medication list is:", False)]
    assert plain.steps[1].table == (("medication", "status"), ("Narcan kit", "active"))
    assert plain.rules == {"LDN-DUP-004"} and plain.runs

    assert outline.examples == ((("order", "rule", "outcome"), ("LDN 6 mg daily", "LDN-DOSE-002", "raised"),
                                 ("LDN 3 mg daily", "LDN-DOSE-002", "not raised")),)
    assert outline.rules == {"LDN-DOSE-002"}  # named in the Examples only

    assert ruled.name == "Inside a rule block" and not ruled.runs and ruled.rules == {"LDN-DOSE-003"}


def test_every_rule_of_both_rulebooks_has_scenarios(evaluator: Evaluator, opioid_safety: OpioidSafety) -> None:
    rules = [*evaluator.rulebook.rules, *opioid_safety.rulebook.rules]
    missing = [rule.id for rule in rules if not scenarios_for(rule.id)]
    assert not missing
    assert any(s.examples for s in scenarios_for("CDC-REC11-001"))


def test_the_catalogue_groups_every_rule_by_category_in_the_rulebooks_order(evaluator: Evaluator,
                                                                             opioid_safety: OpioidSafety) -> None:
    books = (evaluator.rulebook, opioid_safety.rulebook)
    categories = catalogue(books)
    assert [c.name for c in categories] == [name for name in CATEGORIES
                                            if any(r.category == name for b in books for r in b.rules)]
    listed = [rule.id for category in categories for rule in category.rules]
    assert sorted(listed) == sorted(rule.id for book in books for rule in book.rules)
    assert all(rule.category == category.name for category in categories for rule in category.rules)
    assert categories[0].title == "Opioid conflict"
