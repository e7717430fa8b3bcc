"""The request schema (cds/schemas.py): repeated entries are remembered without changing any answer."""

from __future__ import annotations

import pytest
from marshmallow import ValidationError

from cds.schemas import EVALUATE_REQUEST, flatten_errors


def test_a_repeated_medication_list_loads_to_equal_but_separate_values() -> None:
    body = {"medications": [{"text": "metformin 500 mg bid"}, {"code": "7243", "dose": {"value": 1, "unit": "mcg"}}]}
    first = EVALUATE_REQUEST.load(body)
    first["medications"][1]["dose"]["value"] = 99  # a caller changing its copy changes nothing remembered
    second = EVALUATE_REQUEST.load(body)
    assert second["medications"][1]["dose"] == {"value": 1.0, "unit": "mcg"}


@pytest.mark.parametrize("value", [True, "1"])
def test_values_equal_in_python_but_not_in_json_are_not_confused(value: object) -> None:
    EVALUATE_REQUEST.load({"medications": [{"code": "7243", "dose": {"value": 1, "unit": "mg"}}]})
    with pytest.raises(ValidationError) as raised:
        EVALUATE_REQUEST.load({"medications": [{"code": "7243", "dose": {"value": value, "unit": "mg"}}]})
    assert "medications[0].dose.value" in flatten_errors(raised.value.messages)


def test_an_invalid_entry_after_remembered_ones_is_named_by_its_position() -> None:
    good = {"text": "omeprazole 20 mg daily"}
    EVALUATE_REQUEST.load({"medications": [good]})
    with pytest.raises(ValidationError) as raised:
        EVALUATE_REQUEST.load({"medications": [good, {"text": "x", "colour": "blue"}], "conditions": [{"code": "E11.9"}]})
    assert "medications[1].colour" in flatten_errors(raised.value.messages)


def test_a_repeated_order_is_remembered_and_still_checked() -> None:
    order = {"text": "LDN 4.5 mg at bedtime", "purpose": "ldn"}
    assert EVALUATE_REQUEST.load({"order": order})["order"] == EVALUATE_REQUEST.load({"order": order})["order"]
    with pytest.raises(ValidationError) as raised:
        EVALUATE_REQUEST.load({"order": {**order, "purpose": "rapid"}})
    assert "order.purpose" in flatten_errors(raised.value.messages)
