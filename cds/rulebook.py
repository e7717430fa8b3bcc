"""Rule files (`rules/*.yaml`): their schema, loading and compilation.

A bad file stops start-up with one line per problem, `file: rule id: field: reason`.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as mfields

from .conditions import ConditionError, compile_when, describe_when, field_name, parse_alias
from .exceptions import RuleFileError
from .model import FACT_FIELDS

CATEGORIES = (
    "opioid-conflict",
    "opioid-washout",
    "duplicate-antagonist",
    "pregnancy",
    "pregnancy-status-unknown",
    "lactation",
    "hepatic",
    "renal",
    "immunosuppression",
    "interaction",
    "dose",
    "titration",
    "taper",
    "concurrent-cns-depressant",
    "data-quality",
)
SEVERITIES = ("info", "warning", "critical")
SUMMARY_LIMIT = 140
RULES_DIR = Path(__file__).resolve().parent.parent / "rules"
OPIOID_SAFETY_DIR = RULES_DIR / "opioid-safety"  # the CDC Recommendation 11 pack


class _ParameterSchema(Schema):
    value = mfields.Float(required=True, allow_nan=False)
    unit = mfields.String(required=True)
    why = mfields.String(required=True, validate=validate.Length(min=1))


# What a suggestion asks to be done, in clinical words; adapters map each to their own actions
# (CDS Hooks: a FHIR delete, update or ServiceRequest create). Rules know nothing of FHIR.
SUGGESTION_ACTIONS = ("cancel-this-order", "order-liver-tests", "order-pregnancy-test", "rewrite-dose-in-intended-unit")


class _SuggestionSchema(Schema):
    label = mfields.String(required=True, validate=validate.Length(min=1, max=200))
    detail = mfields.String()
    action = mfields.String(validate=validate.OneOf(SUGGESTION_ACTIONS))


class _RuleSchema(Schema):
    id = mfields.String(required=True, validate=validate.Regexp(r"^(LDN|CDC)-[A-Z0-9]+-\d{3}$",
                                                               error="must look like LDN-AREA-001"))
    version = mfields.String(required=True, validate=validate.Regexp(r"^\d+\.\d+\.\d+$",
                                                                     error="must be a semantic version like 1.0.0"))
    title = mfields.String(required=True, validate=validate.Length(min=1, max=120))
    category = mfields.String(required=True, validate=validate.OneOf(CATEGORIES))
    severity = mfields.String(required=True, validate=validate.OneOf(SEVERITIES))
    parameters = mfields.Dict(keys=mfields.String(validate=validate.Regexp(r"^[a-z][a-z0-9_]*$")),
                             values=mfields.Nested(_ParameterSchema), load_default=dict)
    when = mfields.Dict(required=True)
    summary = mfields.String(required=True, validate=validate.Length(min=1, max=SUMMARY_LIMIT))
    detail = mfields.String(required=True, validate=validate.Length(min=1))
    rationale = mfields.String(required=True, validate=validate.Length(min=1))
    sources = mfields.List(mfields.String(), required=True, validate=validate.Length(min=1))
    suggestions = mfields.List(mfields.Nested(_SuggestionSchema), load_default=list)

    @validates_schema
    def _unique_words(self, data: dict, **_: Any) -> None:
        if len(set(data.get("sources", []))) != len(data.get("sources", [])):
            raise ValidationError("cites the same source twice", "sources")


class _RuleFileSchema(Schema):
    rules = mfields.List(mfields.Dict(), required=True, validate=validate.Length(min=1))


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    kind: str
    label: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    value: float
    unit: str
    why: str


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    version: str
    title: str
    category: str
    severity: str
    parameters: tuple[Parameter, ...]
    when: Mapping[str, Any]
    summary: str
    detail: str
    rationale: str
    sources: tuple[Source, ...]
    suggestions: tuple[Mapping[str, str], ...]
    file: str
    definition: Mapping[str, Any]  # the compiled durable-rules form

    @property
    def conditions_in_words(self) -> list[str]:
        return describe_when(self.when)

    @property
    def parameter_values(self) -> dict[str, float]:
        return {p.name: p.value for p in self.parameters}


@dataclass(frozen=True, slots=True)
class Rulebook:
    rules: tuple[Rule, ...]
    sources: Mapping[str, Source]
    by_id: Mapping[str, Rule] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {rule.id: rule for rule in self.rules})

    def get(self, rule_id: str) -> Rule | None:
        return self.by_id.get(rule_id)

    def engine_rules(self) -> dict[str, Mapping[str, Any]]:
        return {rule.id: rule.definition for rule in self.rules}


def load_rulebook(directory: Path = RULES_DIR, sources_file: Path | None = None) -> Rulebook:
    """Load, validate and compile every rule file; raise `RuleFileError` listing all problems.
    Sources come from `directory`/reference/sources.yaml unless `sources_file` is given (rule packs
    in subdirectories cite the same sources)."""
    sources = _load_sources(sources_file or directory / "reference" / "sources.yaml")
    problems: list[str] = []
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        raise RuleFileError([f"{directory}: no rule files (*.yaml)"])
    for path in files:
        # the path under rules/ ("opioid-conflict.yaml", "opioid-safety/rec11.yaml"), else the file name
        name = str(path.relative_to(RULES_DIR)) if path.is_relative_to(RULES_DIR) else path.name
        try:
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            raw_rules = _RuleFileSchema().load(document if isinstance(document, dict) else {})["rules"]
        except yaml.YAMLError as error:
            problems.append(f"{name}: -: yaml: {error}")
            continue
        except ValidationError as error:
            problems += [f"{name}: -: {line}" for line in _flatten(error.messages)]
            continue
        for index, raw in enumerate(raw_rules):
            rule_id = str(raw.get("id", f"rules[{index}]"))
            try:
                rule = _build_rule(raw, sources, name)
            except ValidationError as error:
                problems += [f"{name}: {rule_id}: {line}" for line in _flatten(error.normalized_messages())]
                continue
            except ConditionError as error:
                problems.append(f"{name}: {rule_id}: {error.path}: {error.reason}")
                continue
            if rule.id in seen:
                problems.append(f"{name}: {rule.id}: id: already used in {seen[rule.id]}")
                continue
            seen[rule.id] = name
            rules.append(rule)
    if problems:
        raise RuleFileError(problems)
    rules.sort(key=lambda rule: (CATEGORIES.index(rule.category), rule.id))  # the catalogue's reading order
    return Rulebook(tuple(rules), sources)


def _build_rule(raw: Mapping[str, Any], sources: Mapping[str, Source], file: str) -> Rule:
    data = _RuleSchema().load(raw)
    parameters = tuple(Parameter(name, p["value"], p["unit"], p["why"]) for name, p in data["parameters"].items())
    values = {p.name: p.value for p in parameters}
    definition = compile_when(data["when"], values)
    unknown = [s for s in data["sources"] if s not in sources]
    if unknown:
        raise ValidationError(f"unknown source {unknown[0]!r} (see rules/reference/sources.yaml)", "sources")
    for field_key in ("summary", "detail", "rationale"):
        _check_template(data[field_key], data["when"], values, field_key)
    for index, suggestion in enumerate(data["suggestions"]):
        for key, text in suggestion.items():
            _check_template(text, data["when"], values, f"suggestions[{index}].{key}")
    used = _parameters_used(data)
    unused = sorted(set(values) - used)
    if unused:
        raise ValidationError(f"parameter {unused[0]!r} is not used by the rule", "parameters")
    return Rule(
        id=data["id"], version=data["version"], title=data["title"], category=data["category"],
        severity=data["severity"], parameters=parameters, when=data["when"], summary=data["summary"],
        detail=data["detail"].strip(), rationale=data["rationale"].strip(),
        sources=tuple(sources[s] for s in data["sources"]),
        suggestions=tuple(data["suggestions"]), file=file, definition=definition,
    )


_FORMATTER = string.Formatter()


def template_fields(text: str) -> list[str]:
    return [name for _, name, _, _ in _FORMATTER.parse(text) if name]


def _check_template(text: str, when: Mapping[str, Any], parameters: Mapping[str, float], key: str) -> None:
    aliases = {}
    for alias_key in when:
        alias = parse_alias(str(alias_key))
        if not alias.negated:
            aliases[alias.key] = alias.fact_type
    try:
        names = template_fields(text)
    except ValueError as error:
        raise ValidationError(f"bad template: {error}", key) from None
    for name in names:
        if name in parameters:
            continue
        alias, _, written = name.rpartition(".")
        if alias not in aliases:
            raise ValidationError(f"{{{name}}} names neither a fact of the rule nor a parameter", key)
        if field_name(written) not in FACT_FIELDS[aliases[alias]]:
            raise ValidationError(f"{{{name}}}: {aliases[alias]} facts have no field {written!r}", key)


def _parameters_used(data: Mapping[str, Any]) -> set[str]:
    names = set(data["parameters"])
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
        elif isinstance(node, str) and node in names:
            used.add(node)

    walk(data["when"])
    texts = [data["summary"], data["detail"], data["rationale"]]
    texts += [text for suggestion in data["suggestions"] for text in suggestion.values()]
    for text in texts:
        used.update(name for name in template_fields(text) if name in names)
    return used


def _load_sources(path: Path) -> dict[str, Source]:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        return {key: Source(key, value["kind"], value["label"], value.get("url"))
                for key, value in document["sources"].items()}
    except (OSError, yaml.YAMLError, KeyError, TypeError) as error:
        raise RuleFileError([f"{path.name}: -: sources: {error}"]) from error


def _flatten(messages: Any, prefix: str = "") -> list[str]:
    if isinstance(messages, Mapping):
        lines = []
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            lines += _flatten(value, "" if key == "_schema" and not prefix else path)
        return lines
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return [f"{prefix or 'rule'}: {m}" for m in messages]
    if isinstance(messages, list):
        return [line for m in messages for line in _flatten(m, prefix)]
    return [f"{prefix}: {messages}"]

