"""Alerts: what a rule match means for a person, rendered from the rule's own text.

Matches of one rule are merged into one alert that lists every matched fact, so a patient on
two opioids gets one opioid-conflict alert naming both.
"""

from __future__ import annotations

import functools
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import field_name
from .engine import Match
from .model import format_number
from .rulebook import SUMMARY_LIMIT, Rule, Rulebook

SEVERITY_ORDER = {"critical": 0, "warning": 1, "info": 2}


@dataclass(frozen=True, slots=True)
class Alert:
    rule: Rule
    summary: str
    detail: str
    rationale: str
    suggestions: tuple[Mapping[str, str], ...]
    matched: tuple[Mapping[str, Any], ...]  # each fact with the alias it matched as

    def to_dict(self) -> dict[str, Any]:
        rule = self.rule
        return {
            "rule": rule.id,
            "ruleVersion": rule.version,
            "title": rule.title,
            "category": rule.category,
            "severity": rule.severity,
            "summary": self.summary,
            "detail": self.detail,
            "rationale": self.rationale,
            "matched": [dict(fact) for fact in self.matched],
            "parameters": {p.name: {"value": p.value, "unit": p.unit} for p in rule.parameters},
            "sources": [{"id": s.id, "kind": s.kind, "label": s.label, **({"url": s.url} if s.url else {})}
                        for s in rule.sources],
            "suggestions": [dict(s) for s in self.suggestions],
        }


def build_alerts(rulebook: Rulebook, matches: Iterable[Match]) -> list[Alert]:
    grouped: dict[str, dict[str, list[Mapping[str, Any]]]] = {}
    for match in matches:
        by_alias = grouped.setdefault(match.rule, {})
        for alias, fact in match.facts.items():
            facts = by_alias.setdefault(alias, [])
            if fact not in facts:
                facts.append(fact)
    alerts = []
    for rule_id, by_alias in grouped.items():
        rule = rulebook.get(rule_id)
        if rule is None:  # the engine only knows rulebook rules; a miss is a wiring bug
            raise KeyError(rule_id)
        values = _TemplateValues(by_alias, rule.parameter_values)
        summary = _render(rule.summary, values)
        if len(summary) > SUMMARY_LIMIT:
            summary = summary[: SUMMARY_LIMIT - 1].rstrip() + "…"
        alerts.append(Alert(
            rule=rule,
            summary=summary,
            detail=_render(rule.detail, values),
            rationale=_render(rule.rationale, values),
            suggestions=tuple({k: _render(v, values) for k, v in s.items()} for s in rule.suggestions),
            matched=tuple({"as": alias.replace("_", " "), **fact}
                          for alias, facts in by_alias.items() for fact in facts),
        ))
    alerts.sort(key=lambda a: (SEVERITY_ORDER[a.rule.severity], a.rule.id))
    return alerts


class _TemplateValues:
    """`{order.name}` → every distinct value of that field across the merged matches."""

    def __init__(self, by_alias: Mapping[str, list[Mapping[str, Any]]], parameters: Mapping[str, float]) -> None:
        self.by_alias = by_alias
        self.parameters = parameters

    def lookup(self, name: str) -> str:
        if name in self.parameters:
            return format_number(self.parameters[name])
        alias, _, written = name.rpartition(".")
        values: list[str] = []
        for fact in self.by_alias.get(alias.replace(" ", "_"), ()):
            value = fact.get(field_name(written))
            text = value if isinstance(value, str) else format_number(value)
            if text not in values:
                values.append(text)
        return ", ".join(values) if values else "not recorded"


_FORMATTER = string.Formatter()


@functools.lru_cache(maxsize=4096)
def _parsed(template: str) -> tuple[tuple[str, str | None], ...]:
    # Rule texts are fixed at start-up: parse each template once, not per alert.
    return tuple((literal, name) for literal, name, _, _ in _FORMATTER.parse(template))


def _render(template: str, values: _TemplateValues) -> str:
    parts = []
    for literal, name in _parsed(template):
        parts.append(literal)
        if name:
            parts.append(values.lookup(name))
    return "".join(parts).strip()


def matched_in_words(fact: Mapping[str, Any], paths: Callable[[str], str] = str) -> str:
    """A matched fact as a person reads it ("tramadol 50mg bid (tramadol, 100 mg/day; stopped 3 days
    ago)"); `paths` rewords request paths in problems (the web page says "medication line 3")."""
    kind = fact.get("fact")
    if kind in ("order", "medication"):
        if kind == "order":
            state = "ordered"
        elif fact.get("status") == "stopped":
            since = fact.get("days_since_stopped")
            state = f"stopped {since} days ago" if since is not None else "stopped, date not given"
        else:
            state = fact.get("status", "")
        return f"{fact.get('name')} ({fact.get('ingredient')}, {fact.get('dose', 'dose not given')}; {state})"
    if kind == "condition":
        return f"{fact.get('name')} ({fact.get('code') or 'no code'}; {fact.get('status')})"
    if kind == "lab":
        if not fact.get("recorded"):
            return f"{fact.get('name')}: no result on record"
        return f"{fact.get('name')} {fact.get('result')} on {fact.get('date')} ({fact.get('days_ago')} days before)"
    if kind == "patient":
        age = fact.get("age_years")
        return (f"patient: sex {fact.get('sex')}, age {'not given' if age is None else format_number(age)}, "
                f"pregnancy {fact.get('pregnancy')} ({fact.get('pregnancy_evidence')}), "
                f"lactation {fact.get('lactation')} ({fact.get('lactation_evidence')})")
    if kind == "problem":
        return paths(f"{fact.get('subject')}: {fact.get('reason')}")
    return ""

