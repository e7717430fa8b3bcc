"""Rule files (`rules/*.yaml`): their schema, loading, site settings and compilation.

A bad file stops start-up (or is refused at reload) with one line per problem,
`file:line: rule id: field: reason`. The rule set's own version is in `rules/VERSION`, what each
version changed in `rules/CHANGELOG.md`.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError, validate, validates_schema
from marshmallow import fields as mfields

from . import yamlpos
from .conditions import ConditionError, compile_when, describe_when, field_name, parse_alias
from .exceptions import RuleFileError
from .findings import Finding, dotted, message_paths
from .model import FACT_FIELDS
from .settings import NO_SETTINGS, RuleSetting, SiteSettings

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
OPIOID_SAFETY_PACK = "opioid-safety"  # the CDC Recommendation 11 pack, a subdirectory of rules/
VERSION_FILE = "VERSION"  # the rule set's semantic version, one line
CHANGELOG_FILE = "CHANGELOG.md"
RULESET_NAME = "LDN CDS rules"
SOURCES_FILE = "reference/sources.yaml"
_SEMVER = r"^\d+\.\d+\.\d+$"
_DICT_FIELDS = frozenset({"parameters"})


class _RangeSchema(Schema):
    low = mfields.Float(required=True, allow_nan=False, data_key="from")
    high = mfields.Float(required=True, allow_nan=False, data_key="to")

    @validates_schema
    def _ordered(self, data: dict, **_: Any) -> None:
        if data["low"] >= data["high"]:
            raise ValidationError("'from' must be below 'to'")


class _ParameterSchema(Schema):
    value = mfields.Float(required=True, allow_nan=False)
    unit = mfields.String(required=True)
    why = mfields.String(required=True, validate=validate.Length(min=1))
    site_range = mfields.Nested(_RangeSchema, data_key="site may set")

    @validates_schema
    def _value_in_range(self, data: dict, **_: Any) -> None:
        bounds = data.get("site_range")
        if bounds and "value" in data and not bounds["low"] <= data["value"] <= bounds["high"]:
            raise ValidationError(f"the value {data['value']:g} is outside its own 'site may set' range "
                                  f"({bounds['low']:g} to {bounds['high']:g})", "site may set")


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
    version = mfields.String(required=True, validate=validate.Regexp(_SEMVER,
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
    site_severities = mfields.List(mfields.String(validate=validate.OneOf(SEVERITIES)), load_default=list,
                                   data_key="site may change severity to")
    may_disable = mfields.Boolean(load_default=True, data_key="site may disable")

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
    value: float  # in force: the rule file's, or the site's
    unit: str
    why: str
    default: float  # the rule file's
    site_range: tuple[float, float] | None = None  # what a site may set it to, both ends included

    @property
    def set_by_site(self) -> bool:
        return self.value != self.default


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
    line: int = 1  # where the rule starts in its file
    enabled: bool = True
    file_severity: str = ""  # the rule file's severity; `severity` is the one in force
    site_severities: tuple[str, ...] = ()
    may_disable: bool = True

    @property
    def site_changes(self) -> list[str]:
        """What the site settings change in this rule, in words (empty: as the rule file says)."""
        changes = [] if self.enabled else ["disabled by the site"]
        if self.severity != self.file_severity:
            changes.append(f"severity {self.severity} (rule file: {self.file_severity})")
        changes += [f"{p.name} {p.value:g} {p.unit} (rule file: {p.default:g})" for p in self.parameters if p.set_by_site]
        return changes

    @property
    def conditions_in_words(self) -> list[str]:
        return describe_when(self.when)

    @property
    def parameter_values(self) -> dict[str, float]:
        return {p.name: p.value for p in self.parameters}


@dataclass(frozen=True, slots=True)
class RuleSetVersion:
    name: str
    version: str
    changelog: str  # file name under rules/


@dataclass(frozen=True, slots=True)
class Rulebook:
    rules: tuple[Rule, ...]
    sources: Mapping[str, Source]
    ruleset: RuleSetVersion = RuleSetVersion(RULESET_NAME, "0.0.0", CHANGELOG_FILE)
    settings: SiteSettings = NO_SETTINGS
    by_id: Mapping[str, Rule] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_id", {rule.id: rule for rule in self.rules})

    def get(self, rule_id: str) -> Rule | None:
        return self.by_id.get(rule_id)

    def engine_rules(self) -> dict[str, Mapping[str, Any]]:
        """The rules in force (a site may disable some)."""
        return {rule.id: rule.definition for rule in self.rules if rule.enabled}


def load_rulebook(root: Path = RULES_DIR, pack: str | None = None,
                  settings: SiteSettings = NO_SETTINGS) -> Rulebook:
    """Load, validate and compile the rule files of `root` (or of its subdirectory `pack`), with
    the site's settings applied; raise `RuleFileError` listing every problem. Sources
    (`reference/sources.yaml`) and the version (`ruleset.yaml`) are the root's."""
    rulebook, findings = read_rulebook(root, pack, settings)
    if findings:
        raise RuleFileError(findings)
    assert rulebook is not None
    return rulebook


def load_rulebooks(root: Path = RULES_DIR, settings: SiteSettings = NO_SETTINGS) -> tuple[Rulebook, Rulebook]:
    """The LDN rules and the opioid-safety pack's, checked together (ids unique across both,
    every rule the settings name exists)."""
    ldn, findings = read_rulebook(root, None, settings)
    pack, more = read_rulebook(root, OPIOID_SAFETY_PACK, settings)
    findings += more
    if ldn is not None and pack is not None:
        findings += _cross_checks(ldn, pack, settings)
    if findings:
        raise RuleFileError(sorted(set(findings), key=lambda f: (f.file, f.line, f.rule, f.message)))
    assert ldn is not None and pack is not None
    return ldn, pack


def _cross_checks(ldn: Rulebook, pack: Rulebook, settings: SiteSettings) -> list[Finding]:
    findings = [Finding(rule.file, rule.line, rule.id, f"id: already used in {ldn.by_id[rule.id].file}")
                for rule in pack.rules if rule.id in ldn.by_id]
    known = {**ldn.by_id, **pack.by_id}
    findings += [settings.finding(rule_id, "no rule has this id (see GET /v1/rules)", "rules", rule_id)
                 for rule_id in settings.rules if rule_id not in known]
    return findings


def read_ruleset_version(root: Path) -> tuple[RuleSetVersion | None, list[Finding]]:
    try:
        lines = (root / VERSION_FILE).read_text(encoding="utf-8").splitlines()
    except OSError:
        return None, [Finding(VERSION_FILE, 1, "-", "missing: the rule set needs a semantic version like 1.0.0")]
    version = lines[0].strip() if lines else ""
    if not re.match(_SEMVER, version) or any(line.strip() for line in lines[1:]):
        return None, [Finding(VERSION_FILE, 1, "-", f"{version!r} is not a semantic version like 1.2.0 (major: a rule "
                                                     "removed or made quieter; minor: a rule added or a threshold "
                                                     "changed; patch: wording only)")]
    return RuleSetVersion(RULESET_NAME, version, CHANGELOG_FILE), []


def read_rulebook(root: Path, pack: str | None = None, settings: SiteSettings = NO_SETTINGS,
                  require_version: bool = True) -> tuple[Rulebook | None, list[Finding]]:
    """The rulebook and every problem found on the way (the rulebook is None when there are any).
    `require_version=False` reads rule sets from before `VERSION` existed (as "unversioned")."""
    directory = root / pack if pack else root
    version, findings = read_ruleset_version(root)
    if version is None and not require_version and not (root / VERSION_FILE).exists():
        version, findings = RuleSetVersion(RULESET_NAME, "unversioned", CHANGELOG_FILE), []
    try:
        sources = _load_sources(root / SOURCES_FILE)
    except RuleFileError as error:
        return None, findings + error.findings
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        return None, findings + [Finding(str(directory), 1, "-", "no rule files (*.yaml)")]
    for path in files:
        name = str(path.relative_to(root))
        try:
            located = yamlpos.load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as error:
            findings.append(Finding(name, yamlpos.error_line(error), "-", f"yaml: {_yaml_reason(error)}"))
            continue
        try:
            raw_rules = _RuleFileSchema().load(located.data if isinstance(located.data, dict) else {})["rules"]
        except ValidationError as error:
            findings += [Finding(name, located.line(p), "-", f"{dotted(p)}: {m}")
                         for p, m in message_paths(error.normalized_messages())]
            continue
        for index, raw in enumerate(raw_rules):
            rule_id = str(raw.get("id", f"rules[{index}]"))
            at = ("rules", index)
            line = located.line(at)
            try:
                rule = _build_rule(raw, sources, name, line, settings)
            except ValidationError as error:
                for p, m in message_paths(error.normalized_messages(), _DICT_FIELDS):
                    where = tuple(x for part in p for x in (_path_of(part) if isinstance(part, str) else (part,)))
                    findings.append(Finding(name, located.line((*at, *where)), rule_id, f"{dotted(where) or 'rule'}: {m}"))
                continue
            except ConditionError as error:
                where = _path_of(error.path)
                findings.append(Finding(name, located.line((*at, *where)), rule_id, f"{error.path}: {error.reason}"))
                continue
            except _SettingsError as error:
                findings += error.findings
                continue
            if rule.id in seen:
                findings.append(Finding(name, line, rule.id, f"id: already used in {seen[rule.id]}"))
                continue
            seen[rule.id] = name
            rules.append(rule)
    if findings:
        return None, findings
    assert version is not None
    rules.sort(key=lambda rule: (CATEGORIES.index(rule.category), rule.id))  # the catalogue's reading order
    return Rulebook(tuple(rules), sources, version, settings), []


class _SettingsError(Exception):
    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings


def _apply(data: Mapping[str, Any], setting: RuleSetting | None, settings: SiteSettings
           ) -> tuple[dict[str, float], str, bool]:
    """The parameter values, severity and enabled state in force; `_SettingsError` for a change
    the rule file does not allow (at the settings file's line)."""
    values = {name: p["value"] for name, p in data["parameters"].items()}
    if setting is None:
        return values, data["severity"], True
    rule_id = data["id"]
    problems = []
    for name, value in setting.parameters.items():
        where = ("rules", rule_id, "parameters", name)
        declared = data["parameters"].get(name)
        if declared is None:
            known = ", ".join(data["parameters"]) or "none"
            problems.append(settings.finding(rule_id, f"parameters.{name}: the rule has no such parameter (it has: {known})",
                                             *where))
        elif "site_range" not in declared:
            problems.append(settings.finding(rule_id, f"parameters.{name}: the rule file does not let a site change it "
                                                      f"(no 'site may set')", *where))
        elif not declared["site_range"]["low"] <= value <= declared["site_range"]["high"]:
            bounds = declared["site_range"]
            problems.append(settings.finding(
                rule_id, f"parameters.{name}: {value:g} is outside what the rule file allows "
                         f"({bounds['low']:g} to {bounds['high']:g} {declared['unit']})", *where))
        else:
            values[name] = value
    severity = data["severity"]
    if setting.severity is not None and setting.severity != severity:
        if setting.severity not in data["site_severities"]:
            allowed = ", ".join(data["site_severities"]) or "none"
            problems.append(settings.finding(rule_id, f"severity: the rule file does not allow {setting.severity!r} "
                                                      f"(site may change severity to: {allowed})",
                                             "rules", rule_id, "severity"))
        else:
            severity = setting.severity
    enabled = setting.enabled is not False
    if not enabled and not data["may_disable"]:
        problems.append(settings.finding(rule_id, "enabled: the rule file does not let a site disable this rule "
                                                  "(site may disable: no)", "rules", rule_id, "enabled"))
    if problems:
        raise _SettingsError(problems)
    return values, severity, enabled


def _build_rule(raw: Mapping[str, Any], sources: Mapping[str, Source], file: str, line: int,
                settings: SiteSettings = NO_SETTINGS) -> Rule:
    data = _RuleSchema().load(raw)
    values, severity, enabled = _apply(data, settings.rules.get(data["id"]), settings)
    parameters = tuple(
        Parameter(name, values[name], p["unit"], p["why"], p["value"],
                  (p["site_range"]["low"], p["site_range"]["high"]) if "site_range" in p else None)
        for name, p in data["parameters"].items())
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
        severity=severity, parameters=parameters, when=data["when"], summary=data["summary"],
        detail=data["detail"].strip(), rationale=data["rationale"].strip(),
        sources=tuple(sources[s] for s in data["sources"]),
        suggestions=tuple(data["suggestions"]), file=file, definition=definition, line=line,
        enabled=enabled, file_severity=data["severity"], site_severities=tuple(data["site_severities"]),
        may_disable=data["may_disable"],
    )


def _path_of(text: str) -> tuple:
    """"when.order.any of[0].class" → ("when", "order", "any of", 0, "class")."""
    path: list[Any] = []
    for part in text.split("."):
        name, *indexes = part.split("[")
        if name:
            path.append(name)
        path += [int(i.rstrip("]")) for i in indexes if i.rstrip("]").isdigit()]
    return tuple(path)


def _yaml_reason(error: yaml.YAMLError) -> str:
    return " ".join(str(getattr(error, "problem", None) or error).split())


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
        raise RuleFileError([Finding(SOURCES_FILE, 1, "-", f"sources: {error}")]) from error
