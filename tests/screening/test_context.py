"""What a check gets: the chart, read once as the patient-view service reads it."""

from __future__ import annotations

import pytest

from cds.screening.context import CheckContext, UnreadableChart
from cds.service import Evaluator

from .conftest import AS_OF, alt, ldn, patient


def test_the_chart_is_the_request_shape_clipped_to_as_of(evaluator: Evaluator) -> None:
    resources = {"Patient": [patient("p1")], "MedicationRequest": [ldn("p1")],
                 "Observation": [alt("p1", "o1", 30), alt("p1", "o2", 50, "2026-12-01T09:00:00Z")]}
    context = CheckContext("p1", resources, AS_OF, evaluator)
    chart = context.chart
    assert chart.request["patient"] == {"sex": "female", "birthDate": "1970-05-01"}
    assert chart.request["medications"][0]["code"] == "7243"
    assert [lab["value"] for lab in chart.request["labs"]] == [30]  # the one after as-of is left out
    assert any("dated after the evaluation time" in note for note in chart.notes)
    assert context.chart is chart  # read once, whatever the number of checks


@pytest.mark.parametrize(("resources", "reason"), [
    ({"Patient": [patient("p1")], "MedicationRequest": [{**ldn("p1"), "intent": ["order"]}]},
     "FHIR data of an unexpected shape"),
    ({"Patient": ["not a resource"]}, "prefetch.patient: must be a Bundle or a resource"),
])
def test_fhir_that_cannot_be_read_says_where_every_time_it_is_asked(evaluator: Evaluator, resources: dict,
                                                                      reason: str) -> None:
    context = CheckContext("p1", resources, AS_OF, evaluator)
    for _ in range(2):
        with pytest.raises(UnreadableChart, match=reason):
            context.chart
