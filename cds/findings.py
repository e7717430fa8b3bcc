"""A problem found in a rule, settings or feature file, pointing at its line."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, slots=True, order=True)
class Finding:
    file: str  # as a reviewer finds it: "renal.yaml", "opioid-safety/rec11.yaml", "renal.feature"
    line: int
    rule: str  # the rule id, or "-" when the problem is not about one rule
    message: str  # "field: reason" or a sentence
    level: str = ERROR

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.rule}: {self.message}"


def message_paths(messages: Any, dict_fields: frozenset[str] = frozenset(), path: tuple = ()) -> list[tuple[tuple, str]]:
    """marshmallow's nested error messages as (document path, message) pairs. `_schema` levels are
    dropped, and so are the `key`/`value` levels marshmallow adds under an entry of a Dict field
    (`dict_fields` names them), so each path is the YAML document's own."""
    if isinstance(messages, Mapping):
        found = []
        for key, value in messages.items():
            wrapper = key == "_schema" or (key in ("key", "value") and len(path) >= 2 and path[-2] in dict_fields)
            found += message_paths(value, dict_fields, path if wrapper else (*path, key))
        return found
    if isinstance(messages, list):
        if all(isinstance(m, str) for m in messages):
            return [(path, m) for m in messages]
        return [pair for m in messages for pair in message_paths(m, dict_fields, path)]
    return [(path, str(messages))]


def dotted(path: tuple) -> str:
    """("when", "lab", "value") → "when.lab.value"; list positions as [n]."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
