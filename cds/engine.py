"""A safe, synchronous wrapper around the durable-rules C core.

durable-rules' Python host has defects that crash the process or lose alerts (see
`../shared/knowledge/durable-rules.md`). This module talks to the C core directly and fences
every one of them:

1. `delete_state` segfaults for a session with no completed action: a sentinel rule, fired
   first (lowest priority number), completes an action in every session, and each session is
   deleted exactly once, in `finally`.
2. 1024 live sessions per ruleset: sessions never outlive one evaluation (deleted in `finally`).
3. A batch with a fact that matches no rule reports "not handled" before actions run: the
   status is ignored and actions are drained here, synchronously.
4. Timer threads that steal pending actions: no durable `Host` is created, so there are none.
5. Exceptions in actions are swallowed and two-argument actions are silently async: there are
   no durable actions; matches are handed to a plain callback and its exception reaches the
   caller as `RuleActionError` (after the session is drained and deleted).
6. Empty `str()` on durable exceptions: none are raised through this module.
7. `utcfromtimestamp` deprecation: the Python host that calls it is never used.
8. The C core holds the GIL: one lock per engine; scale out with processes, not threads.
9. (Found here, not in the notes.) A negated pattern (`alias$not`) is checked only as facts
   arrive: if the positive fact comes first in a batch, a later fact that should block the rule
   does not retract the match. Every rule therefore starts with a gate pattern on one marker fact
   that is asserted last, so no rule joins until every fact is in place.
10. (Found here.) The C core's JSON reader kills the process on a number in exponent form
   ("1e-05", what Python writes below 1e-4 or from 1e16): such numbers are sent positionally.
11. (Found here.) A fact with about 255 or more fields makes the core fail or segfault: facts
   are limited to `MAX_FACT_FIELDS`, and a failing assert is raised as `EngineError`.
"""

from __future__ import annotations

import itertools
import json
import math
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import durable_rules_engine as _core
import orjson

from .exceptions import EngineError, RuleActionError

_SENTINEL_RULE = "__evaluation_sentinel__"
_MARKER_KEY = "__all_facts_asserted__"  # on the last fact of every batch: gate and sentinel
_GATE_ALIAS = "all_facts_asserted"
_GATE = {_GATE_ALIAS: {"$ex": {_MARKER_KEY: 1}}}
_SENTINEL_PRIORITY = 0
RULE_PRIORITY = 1
MAX_FACT_FIELDS = 128

Fact = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Match:
    """One firing of one rule: the rule's name and the facts bound to each of its aliases."""

    rule: str
    facts: Mapping[str, Mapping[str, Any]]


class Engine:
    """A compiled durable-rules ruleset that evaluates one batch of facts at a time.

    `rules` maps a rule name to its durable-rules definition (`{"all": [...]}`). Build it once
    at start-up; `evaluate` is safe to call from several threads (it serialises on a lock).
    """

    _names = itertools.count(1)

    def __init__(self, rules: Mapping[str, Mapping[str, Any]], name: str = "ldn") -> None:
        if _SENTINEL_RULE in rules:
            raise EngineError(f"rule name {_SENTINEL_RULE!r} is reserved")
        definition: dict[str, Any] = {}
        for rule_name, body in rules.items():
            if set(body) != {"all"}:
                raise EngineError(f"rule {rule_name!r}: only {{'all': [...]}} definitions are supported")
            definition[rule_name] = {"all": [_GATE, *body["all"]], "pri": RULE_PRIORITY}
        definition[_SENTINEL_RULE] = {"all": [_GATE], "pri": _SENTINEL_PRIORITY}
        # The C core keeps a global registry of ruleset names: make each one unique.
        self.name = f"{name}-{next(self._names)}"
        try:
            self._handle = _core.create_ruleset(self.name, json.dumps(definition))
        except Exception as error:  # the core raises a bare error with a numeric code
            raise EngineError(f"durable-rules refused the ruleset: {error}") from error
        self._lock = threading.Lock()
        self._sids = itertools.count(1)
        # Only the fields some rule tests are sent to the C core (less JSON to write and parse);
        # a match is answered with the caller's own fact, found by its position in the batch.
        self._tested = frozenset(_strings(definition)) | {"fact"}

    def evaluate(
        self,
        facts: Iterable[Fact],
        on_match: Callable[[Match], None] | None = None,
    ) -> list[Match]:
        """Assert `facts` in a fresh session and return every rule match, in firing order.

        `on_match`, if given, is called synchronously for each match; if it raises, the
        session is still drained and deleted, then the error is raised as `RuleActionError`.
        """
        matches: list[Match] = []
        failure: RuleActionError | None = None
        with self._lock:
            sid = str(next(self._sids))
            given = list(facts)
            tested = self._tested
            batch = [{**{k: v for k, v in fact.items() if k in tested}, "sid": sid, "id": f"{sid}.{index}"}
                     for index, fact in enumerate(given)]
            if any(len(fact) > MAX_FACT_FIELDS for fact in batch):
                raise EngineError(f"a fact has more than {MAX_FACT_FIELDS} fields (defect 11)")
            batch.append({"sid": sid, "id": f"{sid}.marker", _MARKER_KEY: 1})
            payload = _encode(batch)
            try:
                # Status 1 ("not handled": some fact matched no rule) is expected and ignored.
                _status, state = _core.assert_facts(self._handle, payload)
            except Exception as error:  # nothing completed: deleting this session could crash
                raise EngineError(f"durable-rules refused the facts: {error}") from error
            try:
                started = _core.start_action_for_state(self._handle, state)
                message = started[1] if started else None
                while message:
                    for rule, bound in orjson.loads(message).items():
                        if rule == _SENTINEL_RULE:
                            continue
                        match = Match(rule, {alias: given[int(fact["id"].rpartition(".")[2])]
                                             for alias, fact in bound.items() if alias != _GATE_ALIAS})
                        matches.append(match)
                        if on_match is not None and failure is None:
                            try:
                                on_match(match)
                            except Exception as error:
                                failure = RuleActionError(rule, error)
                    message = _core.complete_and_start_action(self._handle, state)
            finally:
                # The sentinel (priority 0) completed first, so this delete is safe (defect 1).
                _core.delete_state(self._handle, sid)
        if failure is not None:
            raise failure from failure.cause
        return matches


_EXPONENT = re.compile(r"e[-+]\d")  # Python writes exponents as "1e-05", "1e+16"; cheap to scan for


def _encode(batch: list[dict[str, Any]]) -> str:
    """JSON the C core can read: finite numbers only, none in exponent form (defect 10)."""
    try:
        payload = orjson.dumps(batch).decode()
    except TypeError as error:
        raise EngineError(f"facts are not plain JSON: {error}") from error
    if "null" in payload:  # orjson writes NaN and infinities as null: let the strict encoder judge
        try:
            payload = json.dumps(batch, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise EngineError(f"facts are not plain JSON: {error}") from error
    if _EXPONENT.search(payload) is None:  # the usual case: one C-speed pass
        return payload
    return "[" + ",".join(_positional(fact) for fact in batch) + "]"


def _positional(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{_positional(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_positional(v) for v in value) + "]"
    if isinstance(value, float) and math.isfinite(value):
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text else text
    return json.dumps(value)


def _strings(value: Any) -> set[str]:
    """Every key and string value in a ruleset definition: a superset of the fact fields it tests."""
    if isinstance(value, Mapping):
        return {str(k) for k in value} | {s for v in value.values() for s in _strings(v)}
    if isinstance(value, (list, tuple)):
        return {s for v in value for s in _strings(v)}
    return {value} if isinstance(value, str) else set()
