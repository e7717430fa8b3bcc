"""Site settings: what one hospital changes in the rule set without a code release.

A YAML file (path from `LDN_CDS_SETTINGS`) may disable rules, change a rule's severity or its
thresholds, within what each rule file allows (`site may disable`, `site may change severity to`,
`site may set` on a parameter), and name the organisation on cards:

    organisation:
      name: St Elsewhere Hospital Pharmacy
      links:
        - {label: Local LDN prescribing guideline, url: "https://intranet.example.org/ldn"}
    rules:
      LDN-REN-001:
        severity: critical
        parameters: {severe_egfr_below: 45}
      LDN-DQ-001:
        enabled: no

This module reads and checks the file's shape; whether each change is allowed is checked against
the rule files when the rule set loads (`cds.rulebook`), with the settings file's line numbers.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from marshmallow import Schema, ValidationError, validate
from marshmallow import fields as mfields

from . import yamlpos
from .exceptions import RuleFileError
from .findings import Finding, dotted, message_paths

SETTINGS_ENV = "LDN_CDS_SETTINGS"
SEVERITIES = ("info", "warning", "critical")
RULE_ID_PATTERN = r"^(LDN|CDC)-[A-Z0-9]+-\d{3}$"
_DICTS = frozenset({"rules", "parameters"})


class _LinkSchema(Schema):
    label = mfields.String(required=True, validate=validate.Length(min=1, max=140))
    url = mfields.Url(required=True, schemes={"https", "http"})


class _OrganisationSchema(Schema):
    name = mfields.String(required=True, validate=validate.Length(min=1, max=120))
    links = mfields.List(mfields.Nested(_LinkSchema), load_default=list)


class _Number(mfields.Float):
    """A YAML number; "45" in quotes or yes/no is refused rather than read as one."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("must be a number")
        return super()._deserialize(value, attr, data, **kwargs)


class _RuleSettingSchema(Schema):
    enabled = mfields.Boolean()
    severity = mfields.String(validate=validate.OneOf(SEVERITIES))
    parameters = mfields.Dict(keys=mfields.String(),
                              values=_Number(allow_nan=False), load_default=dict)


class _SettingsSchema(Schema):
    organisation = mfields.Nested(_OrganisationSchema)
    rules = mfields.Dict(keys=mfields.String(validate=validate.Regexp(RULE_ID_PATTERN,
                                                                      error="must be a rule id like LDN-REN-001")),
                         values=mfields.Nested(_RuleSettingSchema), load_default=dict)


@dataclass(frozen=True, slots=True)
class Link:
    label: str
    url: str


@dataclass(frozen=True, slots=True)
class Organisation:
    name: str
    links: tuple[Link, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleSetting:
    enabled: bool | None = None
    severity: str | None = None
    parameters: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SiteSettings:
    """No file: every rule as its file says, no organisation."""

    organisation: Organisation | None = None
    rules: Mapping[str, RuleSetting] = field(default_factory=dict)
    file: str | None = None  # the file's name, for findings
    fingerprint: str | None = None  # sha-256 of the file's bytes, recorded with every answer
    located: yamlpos.Located | None = None

    def line(self, *path: Any) -> int:
        return self.located.line(path) if self.located else 1

    def finding(self, rule: str, message: str, *path: Any) -> Finding:
        return Finding(self.file or "settings", self.line(*path), rule, message)


NO_SETTINGS = SiteSettings()


def settings_path_from_environment() -> Path | None:
    value = os.environ.get(SETTINGS_ENV, "").strip()
    return Path(value) if value else None


def load_settings(path: Path | None) -> SiteSettings:
    """Read a settings file; `None` means no settings. Raises `RuleFileError` with every problem."""
    if path is None:
        return NO_SETTINGS
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise RuleFileError([Finding(name, 1, "-", f"cannot read the settings file: {error.strerror or error}")]) \
            from None
    try:
        located = yamlpos.load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise RuleFileError([Finding(name, 1, "-", "is not UTF-8 text")]) from None
    except yaml.YAMLError as error:
        reason = " ".join(str(getattr(error, "problem", None) or error).split())
        raise RuleFileError([Finding(name, yamlpos.error_line(error), "-", f"yaml: {reason}")]) from None
    document = located.data if located.data is not None else {}
    if not isinstance(document, dict):
        raise RuleFileError([Finding(name, 1, "-", "must be a mapping with 'organisation' and/or 'rules'")])
    try:
        data = _SettingsSchema().load(document)
    except ValidationError as error:
        raise RuleFileError([Finding(name, located.line(path_), _rule_of(path_), f"{dotted(path_) or 'settings'}: {message}")
                             for path_, message in message_paths(error.normalized_messages(), _DICTS)]) from None
    organisation = data.get("organisation")
    return SiteSettings(
        organisation=Organisation(organisation["name"], tuple(Link(l["label"], l["url"]) for l in organisation["links"]))
        if organisation else None,
        rules={rule_id: RuleSetting(s.get("enabled"), s.get("severity"), dict(s["parameters"]))
               for rule_id, s in data["rules"].items()},
        file=name,
        fingerprint=hashlib.sha256(raw).hexdigest(),
        located=located,
    )


def _rule_of(path: tuple) -> str:
    return str(path[1]) if len(path) > 1 and path[0] == "rules" else "-"
