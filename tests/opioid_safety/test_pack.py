"""The opioid-safety pack on the IG's own Recommendation 11 examples: the reference engine's answers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cds.opioid_safety import OpioidSafety, flatten

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "examples" / "cds-hooks" / "opioid-cds-r4-rec11-patient-view"
T = date(2023, 5, 1)  # the examples' evaluation date (../shared/README.md)


def example(name: str) -> dict[str, Any]:
    """A published example, repaired as the shared README allows: trailing characters after the JSON
    dropped, resources written beside `prefetch` moved into it."""
    document, _ = json.JSONDecoder().raw_decode((EXAMPLES / name).read_text(encoding="utf-8"))
    prefetch = dict(document.get("prefetch") or {})
    for key in [k for k in document if k.startswith("item")]:
        prefetch[key] = document.pop(key)
    document["prefetch"] = prefetch
    return document


def expected(name: str) -> bool:
    """The file name says the outcome: "...-with-..." applies, "...-without-..." does not."""
    return "-without-" not in name


NAMES = sorted(path.name for path in EXAMPLES.glob("request-*.json"))


@pytest.fixture(scope="module")
def pack() -> OpioidSafety:
    return OpioidSafety()


def test_there_are_four_examples() -> None:
    assert len(NAMES) == 4 and sum(expected(name) for name in NAMES) == 2


@pytest.mark.parametrize("name", NAMES)
def test_the_reference_engines_answer(pack: OpioidSafety, name: str) -> None:
    request = example(name)
    patient_id = request["context"]["patientId"].rsplit("/", 1)[-1]
    evaluation = pack.evaluate(request["prefetch"].values(), T, patient_id)
    assert [alert.rule.id for alert in evaluation.alerts] == (["CDC-REC11-001"] if expected(name) else [])
    assert evaluation.chart.inclusion is expected(name)
    if expected(name):
        [alert] = evaluation.alerts
        assert alert.rule.category == "concurrent-cns-depressant" and alert.rule.severity == "warning"
        assert alert.summary == ("Use Particular Caution When Prescribing Opioid Pain Medication and "
                                 "Benzodiazepines or Other CNS Depressants Concurrently")


def test_two_years_later_the_same_chart_no_longer_applies(pack: OpioidSafety) -> None:
    request = example("request-example-rec-11-patient-view-benzo-trigger-with-opioid.json")
    assert not pack.evaluate(request["prefetch"].values(), date(2025, 5, 2), None).alerts


def test_flatten_opens_bundles_and_prefetch_entries_and_keeps_each_resource_once() -> None:
    first, second = {"resourceType": "Patient", "id": "p1"}, {"resourceType": "Encounter", "id": "e1"}
    nested = {"resourceType": "Bundle", "entry": [{"resource": second}, {"resource": first}]}
    bundle = {"resourceType": "Bundle", "entry": [{"resource": first}, {"resource": nested}, "junk"]}
    found = flatten([bundle, {"response": {}, "resource": first}, None, "text", {"no": "type"},
                     {"resourceType": "Bundle", "entry": 3}])
    assert found == [first, second]
    other = {"resourceType": "Encounter", "id": "e1", "status": "finished"}  # same id, different content: kept
    assert flatten([second, other]) == [second, other]


def test_the_rec11_card_links_the_cdc_guideline() -> None:
    from cds.hooks.cards import CardContext, card
    request = example("request-example-rec-11-patient-view-benzo-trigger-with-opioid.json")
    [alert] = OpioidSafety().evaluate(request["prefetch"].values(), T).alerts
    links = [link["url"] for link in card(alert, CardContext("https://cds.example.org"))["links"]]
    assert "https://www.cdc.gov/mmwr/volumes/71/rr/rr7103a1.htm" in links
