"""The rule set in force: rules, terminology and site settings, loaded together, used together.

A `RuleSet` is immutable. The service holds one (`RuleSetHolder`); a reload builds a new one and
swaps it in. Each request pins the rule set it started with (`current()`), so a reload never
changes the rules under a request that is being answered.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from flask import current_app, g, has_request_context

from .opioid_safety import OpioidSafety
from .rulebook import RULES_DIR, Rulebook, RuleSetVersion, load_rulebooks
from .service import Evaluator
from .settings import NO_SETTINGS, SiteSettings, load_settings

EXTENSION = "ldn_cds_ruleset"


@dataclass(frozen=True)
class RuleSet:
    root: Path
    settings: SiteSettings
    evaluator: Evaluator
    opioid_safety: OpioidSafety
    fingerprint: str  # sha-256 of every file under rules/ and of the settings file
    loaded_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def version(self) -> RuleSetVersion:
        return self.evaluator.rulebook.ruleset

    @property
    def rulebooks(self) -> tuple[Rulebook, Rulebook]:
        """The LDN rules, then the opioid-safety pack's."""
        return self.evaluator.rulebook, self.opioid_safety.rulebook

    def stamp(self) -> dict[str, Any]:
        """What every answer records so its alerts can be traced to the exact rule text and settings."""
        return {"name": self.version.name, "version": self.version.version, "fingerprint": self.fingerprint[:16],
                "settings": self.settings.fingerprint[:16] if self.settings.fingerprint else None}


def load_ruleset(root: Path = RULES_DIR, settings_path: Path | None = None) -> RuleSet:
    """Read and check everything; raise `RuleFileError` (every problem, with its line) or
    `TerminologyError`. Nothing is shared with a rule set already in use."""
    settings = load_settings(settings_path)
    ldn, pack = load_rulebooks(root, settings)
    evaluator = Evaluator(rules_dir=root, terminology_dir=root / "terminology", rulebook=ldn)
    return RuleSet(root, settings, evaluator, OpioidSafety(rulebook=pack), fingerprint(root, settings_path))


def fingerprint(root: Path, settings_path: Path | None = None) -> str:
    """One hash for the rule files, terminology and settings as they are on disk now."""
    digest = hashlib.sha256()
    paths = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    for path in paths:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    if settings_path is not None:
        digest.update(b"settings\0" + settings_path.read_bytes())
    return digest.hexdigest()


class RuleSetHolder:
    """The rule set in force in this process; `swap` replaces it atomically."""

    def __init__(self, ruleset: RuleSet) -> None:
        self.current = ruleset
        self.reloading = threading.Lock()  # one reload at a time

    def swap(self, ruleset: RuleSet) -> RuleSet:
        previous, self.current = self.current, ruleset
        return previous


def holder() -> RuleSetHolder:
    return current_app.extensions[EXTENSION]


def current() -> RuleSet:
    """The rule set this request started with (pinned on first use), or the one in force."""
    if not has_request_context():
        return holder().current
    pinned = g.get("ruleset")
    if pinned is None:
        pinned = g.ruleset = holder().current
    return pinned


def pin_ruleset() -> None:
    """`before_request`: pin the rule set in force as the request starts."""
    current()
