"""Every error LDN CDS raises on purpose.

    CDSError
    ├── ConfigurationError          start-up data is wrong; the service must not start
    │   ├── RuleFileError           a rule or settings file is refused ("file:line: rule id: field: reason")
    │   └── TerminologyError        a terminology file is malformed
    ├── InputError                  a request or patient file is not acceptable (rendered as a 4xx problem)
    └── EngineError                 the rule engine failed while evaluating
        └── RuleActionError         a rule's action raised; carries the rule id and the cause

Adapters turn InputError into `application/problem+json`; everything else is a bug or a bad
deployment and is logged with its request id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .findings import Finding


class CDSError(Exception):
    """Base of every error raised on purpose by LDN CDS."""


class ConfigurationError(CDSError):
    """Start-up data (rules, terminology, settings) is wrong."""


class RuleFileError(ConfigurationError):
    """Rule or settings files that cannot be used. `findings` point at the lines; `problems` are
    the same as text, each `file:line: rule id: field: reason`."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        self.findings = list(findings)
        self.problems = [str(finding) for finding in self.findings]
        super().__init__("invalid rule files:\n  " + "\n  ".join(self.problems))


class TerminologyError(ConfigurationError):
    """A terminology file is malformed."""


class InputError(CDSError):
    """Input that cannot be evaluated. `errors` maps a field path to its reasons."""

    def __init__(self, errors: dict[str, list[str]], title: str = "Invalid request") -> None:
        self.errors = errors
        self.title = title
        super().__init__(f"{title}: {errors}")


class EngineError(CDSError):
    """The rule engine failed during an evaluation."""


class RuleActionError(EngineError):
    """A rule's action raised an exception; durable-rules would otherwise swallow it."""

    def __init__(self, rule_id: str, cause: BaseException) -> None:
        self.rule_id = rule_id
        self.cause = cause
        super().__init__(f"rule {rule_id}: action failed: {type(cause).__name__}: {cause}")
