"""The condition language of rule files, compiled to durable-rules patterns.

A rule's `when` maps aliases to fact patterns. An alias is a fact type (`order`, `medication`,
`condition`, `lab`, `patient`, `problem`), optionally with words before it (`another
medication`); `no ...` means "no such fact exists". Each pattern maps a field (spaces allowed:
`dose band`) to a test:

    class: opioid-agonist                  equals
    opioid use: [analgesic, maintenance]   one of
    status: {is not: stopped}
    days since stopped: {at most: washout_days}      numbers or a parameter name
    age years: {is missing: true}
    any of: [{...}, {...}]                 one of several field groups

Tests: is, is not, one of, not one of, below, at most, above, at least, is missing, is present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .model import FACT_FIELDS

_NUMERIC_TESTS = {"below": "$lt", "at most": "$lte", "above": "$gt", "at least": "$gte"}
_TESTS = {"is", "is not", "one of", "not one of", "is missing", "is present", *_NUMERIC_TESTS}
_ALIAS = re.compile(r"^(?P<neg>no )?(?P<words>(?:[a-z]+ )*?)(?P<type>[a-z]+)$")


@dataclass(frozen=True, slots=True)
class Alias:
    key: str  # as written in the rule file, e.g. "another medication"
    fact_type: str
    negated: bool

    @property
    def engine_name(self) -> str:
        name = self.key.removeprefix("no ").replace(" ", "_")
        return f"{name}$not" if self.negated else name


def parse_alias(key: str) -> Alias:
    found = _ALIAS.match(key)
    if not found or found["type"] not in FACT_FIELDS:
        raise ValueError(f"unknown fact {key!r}: use one of {', '.join(FACT_FIELDS)}, "
                         "optionally with words before it, or 'no ...'")
    return Alias(key, found["type"], bool(found["neg"]))


def field_name(written: str) -> str:
    return written.strip().replace(" ", "_")


class ConditionError(ValueError):
    """A condition that cannot compile; `path` says where (e.g. `when.medication.class`)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def compile_when(when: Mapping[str, Any], parameters: Mapping[str, float]) -> dict[str, Any]:
    """Compile a rule's `when` to a durable-rules `{"all": [...]}` definition."""
    if not isinstance(when, Mapping) or not when:
        raise ConditionError("when", "must name at least one fact")
    patterns = []
    for key, tests in when.items():
        try:
            alias = parse_alias(str(key))
        except ValueError as error:
            raise ConditionError(f"when.{key}", str(error)) from None
        clauses = [{"fact": alias.fact_type}]
        clauses += _compile_group(tests, alias.fact_type, parameters, f"when.{key}")
        patterns.append({alias.engine_name: {"$and": clauses}})
    if all(next(iter(p)).endswith("$not") for p in patterns):
        raise ConditionError("when", "needs at least one fact that must exist")
    return {"all": patterns}


def _compile_group(tests: Any, fact_type: str, parameters: Mapping[str, float], path: str) -> list:
    if tests is None:
        return []
    if not isinstance(tests, Mapping):
        raise ConditionError(path, "must be a mapping of field: test")
    clauses = []
    for written, test in tests.items():
        if written == "any of":
            if not isinstance(test, list) or len(test) < 2:
                raise ConditionError(f"{path}.any of", "must list at least two alternatives")
            alternatives = []
            for index, group in enumerate(test):
                compiled = _compile_group(group, fact_type, parameters, f"{path}.any of[{index}]")
                alternatives.append({"$and": compiled} if len(compiled) != 1 else compiled[0])
            clauses.append({"$or": alternatives})
            continue
        name = field_name(str(written))
        kind = FACT_FIELDS[fact_type].get(name)
        if kind is None:
            raise ConditionError(f"{path}.{written}",
                                 f"{fact_type} facts have no field {written!r}; known: "
                                 + ", ".join(f.replace('_', ' ') for f in FACT_FIELDS[fact_type]))
        clauses += _compile_test(name, kind, test, parameters, f"{path}.{written}")
    return clauses


def _compile_test(name: str, kind: Any, test: Any, parameters: Mapping[str, float], path: str) -> list:
    if not isinstance(test, Mapping):
        test = {"one of": test} if isinstance(test, list) else {"is": test}
    unknown = set(test) - _TESTS
    if unknown:
        raise ConditionError(path, f"unknown test {sorted(unknown)[0]!r}; use one of {', '.join(sorted(_TESTS))}")
    clauses: list[dict[str, Any]] = []
    for op, value in test.items():
        if op in _NUMERIC_TESTS:
            if kind != "number":
                raise ConditionError(path, f"'{op}' compares numbers; this field is not a number")
            clauses.append({_NUMERIC_TESTS[op]: {name: _number(value, parameters, path)}})
        elif op in ("is missing", "is present"):
            if value is not True:
                raise ConditionError(path, f"'{op}' takes 'true'")
            clauses.append({"$nex" if op == "is missing" else "$ex": {name: 1}})
        elif op in ("is", "is not"):
            _check_value(kind, value, path)
            clauses.append({name: value} if op == "is" else {"$neq": {name: value}})
        else:
            values = value if isinstance(value, list) else [value]
            if not values:
                raise ConditionError(path, f"'{op}' needs at least one value")
            for item in values:
                _check_value(kind, item, path)
            if op == "one of":
                clauses.append({"$or": [{name: item} for item in values]} if len(values) > 1 else {name: values[0]})
            else:
                clauses += [{"$neq": {name: item}} for item in values]
    return clauses


def _number(value: Any, parameters: Mapping[str, float], path: str) -> float:
    if isinstance(value, bool):
        raise ConditionError(path, "needs a number or a parameter name")
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and value in parameters:
        return parameters[value]
    raise ConditionError(path, f"{value!r} is neither a number nor a parameter of this rule")


def _check_value(kind: Any, value: Any, path: str) -> None:
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConditionError(path, f"{value!r} is not a number")
    elif kind == "yes/no":
        if not isinstance(value, bool):
            raise ConditionError(path, f"{value!r} is not yes or no")
    elif isinstance(kind, tuple):
        if value not in kind:
            raise ConditionError(path, f"{value!r} is not one of: {', '.join(kind)}")
    elif not isinstance(value, str):
        raise ConditionError(path, f"{value!r} is not text")


def describe_when(when: Mapping[str, Any]) -> list[str]:
    """The conditions in words, one line per fact, for the rule catalogue."""
    lines = []
    for key, tests in when.items():
        lines.append(f"{key}" + (f" where {_describe_group(tests)}" if tests else ""))
    return lines


def _describe_group(tests: Mapping[str, Any]) -> str:
    parts = []
    for written, test in tests.items():
        if written == "any of":
            parts.append("(" + " or ".join(_describe_group(group) for group in test) + ")")
            continue
        if not isinstance(test, Mapping):
            test = {"one of": test} if isinstance(test, list) else {"is": test}
        for op, value in test.items():
            if isinstance(value, bool):
                value = "yes" if value else "no"
            if isinstance(value, list):
                value = " or ".join(str(v) for v in value)
            parts.append(f"{written} {op}" if op in ("is missing", "is present") else f"{written} {op} {value}")
    return " and ".join(parts)
