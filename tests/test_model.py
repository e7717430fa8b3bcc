"""The normalized patient model (cds/model.py)."""

from __future__ import annotations

import dataclasses
from datetime import date

from cds.model import Ingredient, Medication


def test_taken_keeps_the_reading_and_sets_only_what_differs_per_patient() -> None:
    # Medication.taken spells dataclasses.replace out for speed: a field added to Medication must
    # reach it, in order
    values = {field.name: f"<{field.name}>" for field in dataclasses.fields(Medication)}
    reading = Medication(**values)
    taken = reading.taken("medications[3]", "stopped", date(2026, 1, 1), date(2026, 2, 1), True)
    expected = dataclasses.replace(reading, source="medications[3]", status="stopped", started=date(2026, 1, 1),
                                   stopped=date(2026, 2, 1), under_review=True)
    assert taken == expected


def test_classes_leave_out_inactive_ingredients() -> None:
    medication = Medication("order", "Embeda", (
        Ingredient("morphine", ("opioid-agonist",)),
        Ingredient("naltrexone", ("naltrexone",), inactive_reason="sequestered")))
    assert medication.classes == ("opioid-agonist",)
