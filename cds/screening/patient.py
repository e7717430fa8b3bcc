"""One patient → one output line: every per-patient check, run in order.

A check is `(resources_by_type, as_of, context) -> list[alert dict]`, each alert at least
`{"rule", "ruleVersion", "category", "severity", "summary"}`. To add one, write the function in
its own module and add one line to `CHECKS`:

    CHECKS = (
        Check("ldn-review", ldn_review),
        Check("concurrent-cns-depressant", concurrent_cns_depressants),   # the new one
    )

A check that cannot read the chart, or whose request the schema refuses, gives the patient an
`error` naming the check and the reason (never a traceback); the other checks still run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any, NamedTuple

from marshmallow import ValidationError

from ..exceptions import EngineError
from ..schemas import flatten_errors
from ..service import Evaluator
from .context import CheckContext, UnreadableChart
from .ldn_review import ldn_review
from .opioid_safety import concurrent_cns_depressants
from .prefetch import Resources

log = logging.getLogger("cds.screening")

Alerts = list[dict[str, Any]]


class Check(NamedTuple):
    name: str
    run: Callable[[Resources, datetime, CheckContext], Alerts]


CHECKS: tuple[Check, ...] = (
    Check("ldn-review", ldn_review),
    Check("concurrent-cns-depressant", concurrent_cns_depressants),
)


def screen_patient(patient_id: str, resources: Resources, as_of: datetime, evaluator: Evaluator,
                   checks: Sequence[Check] = CHECKS) -> dict[str, Any]:
    """`{"patient": id, "alerts": [...]}`, with `"error": "..."` when a check could not run."""
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=timezone.utc)
    context = CheckContext(patient_id, resources, as_of, evaluator)
    alerts: Alerts = []
    errors: list[str] = []
    for check in checks:
        try:
            alerts += check.run(resources, as_of, context)
        except UnreadableChart as error:
            errors.append(f"{check.name}: {error.reason}")
        except ValidationError as error:  # the chart, read, breaks the request schema
            errors.append(f"{check.name}: " + "; ".join(f"{path}: {', '.join(reasons)}" for path, reasons
                                                        in flatten_errors(error.messages).items()))
        except EngineError as error:
            log.error("screening check failed", extra={"check": check.name, "error_type": type(error).__name__})
            errors.append(f"{check.name}: the rule engine failed ({type(error).__name__}); see the log")
        except Exception as error:  # a defect: one patient must not stop a panel of thousands
            log.error("screening check failed", extra={"check": check.name, "error_type": type(error).__name__})
            errors.append(f"{check.name}: internal error ({type(error).__name__}); see the log")
    line: dict[str, Any] = {"patient": patient_id, "alerts": alerts}
    if errors:
        line["error"] = "; ".join(errors)
    return line
