"""The evaluation service: terminology, rules and engine built once, then one call per patient."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .alerts import Alert, build_alerts
from .engine import Engine
from .model import Medication, PatientRecord
from .normalize import Normalizer
from .rulebook import RULES_DIR, Rulebook, load_rulebook
from .terminology import TERMINOLOGY_DIR, Terminology


@dataclass(frozen=True, slots=True)
class Evaluation:
    record: PatientRecord
    alerts: list[Alert]

    def to_dict(self) -> dict[str, Any]:
        record = self.record
        return {
            "evaluationTime": record.evaluation_time.isoformat(),
            "alerts": [alert.to_dict() for alert in self.alerts],
            "understood": {
                "patient": {k: v for k, v in record.patient.fact().items() if k != "fact"},
                "order": _medication_view(record.order) if record.order else None,
                "medications": [_medication_view(m) for m in record.medications],
                "conditions": [{"concept": c.concept, "name": c.name, "code": c.code, "status": c.status}
                               for c in record.conditions],
                "labs": [{"analyte": lab.analyte, "name": lab.name, "value": lab.value, "result": lab.result,
                          "unit": lab.unit, "date": lab.taken.isoformat() if lab.taken else None}
                         for lab in record.labs],
                "notUsed": list(record.unused),
            },
        }


class Evaluator:
    """Everything needed to evaluate patients. Build once per process (it owns a rule engine)."""

    def __init__(self, rules_dir: Path = RULES_DIR, terminology_dir: Path = TERMINOLOGY_DIR,
                 rulebook: Rulebook | None = None) -> None:
        self.terminology = Terminology.load(terminology_dir)
        self.rulebook: Rulebook = rulebook or load_rulebook(rules_dir)
        self.normalizer = Normalizer(self.terminology)
        self.engine = Engine(self.rulebook.engine_rules())

    def evaluate(self, request: Mapping[str, Any], now: datetime | None = None) -> Evaluation:
        """`request` is a validated evaluation request (see `cds.api.schemas.EvaluateRequest`)."""
        record = self.normalizer.record(request, now)
        return self.evaluate_record(record)

    def evaluate_record(self, record: PatientRecord) -> Evaluation:
        matches = self.engine.evaluate(record.facts())
        return Evaluation(record, build_alerts(self.rulebook, matches))


def _medication_view(medication: Medication) -> dict[str, Any]:
    return {
        "source": medication.source,
        "written": medication.name,
        "product": medication.product,
        "ingredients": [
            {"name": i.name, "classes": list(i.classes), "opioidUse": i.opioid_use,
             "dailyDoseMg": i.daily_dose_mg,
             **({"inactive": i.inactive_reason} if i.inactive_reason else {})}
            for i in medication.ingredients
        ],
        "classes": list(medication.classes),
        "status": medication.status,
        "dose": medication.dose,
        "doseBand": medication.dose_band,
        "purpose": medication.purpose,
        "asNeeded": medication.as_needed,
        "timeOfDay": medication.time_of_day,
    }


