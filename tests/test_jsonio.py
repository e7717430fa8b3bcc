"""HTTP JSON bodies (cds/jsonio.py): orjson's speed, the standard library's answers."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from cds.jsonio import FastJSONProvider


@pytest.fixture()
def provider() -> FastJSONProvider:
    return FastJSONProvider(Flask(__name__))


def test_writes_what_the_standard_library_writes(provider: FastJSONProvider) -> None:
    value = {"naltrexone": "4.5 mg", "µg": 0.001, "list": [1, 2.5, None, True], "nested": {"é": "ü"}}
    assert json.loads(provider.dumps(value)) == value


def test_integers_beyond_64_bits_fall_back(provider: FastJSONProvider) -> None:
    assert provider.dumps({"n": 10**30}) == '{"n": 1000000000000000000000000000000}'


def test_nan_reaches_the_schema_and_malformed_json_is_a_value_error(provider: FastJSONProvider) -> None:
    assert provider.loads('{"value": NaN}')["value"] != provider.loads('{"value": NaN}')["value"]
    with pytest.raises(ValueError):
        provider.loads('{"value": ')


def test_pretty_printing_uses_the_standard_library(provider: FastJSONProvider) -> None:
    assert provider.dumps({"a": 1}, indent=2) == '{\n  "a": 1\n}'


def test_the_app_answers_with_orjson(client) -> None:  # type: ignore[no-untyped-def]
    from cds.jsonio import FastJSONProvider as Provider
    assert isinstance(client.application.json, Provider)
    assert client.get("/healthz").data.startswith(b'{"status":"ok"')  # compact, as orjson writes it


def test_compact_separators_are_what_orjson_writes(provider: FastJSONProvider) -> None:
    assert provider.dumps({"a": [1, 2]}, separators=(",", ":")) == '{"a":[1,2]}'
