"""The opioid-safety rule pack: rules/opioid-safety/*.yaml compiled to their own durable-rules engine,
evaluated on a chart read from FHIR (cds/opioid_safety/chart.py)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ..alerts import Alert, build_alerts
from ..engine import Engine
from ..rulebook import OPIOID_SAFETY_DIR, RULES_DIR, Rulebook, load_rulebook
from .chart import Chart, preload, read_chart

_MAX_DEPTH = 3  # Bundles inside Bundles (a batch-response of searchsets) are opened this deep


@dataclass(frozen=True, slots=True)
class PackEvaluation:
    chart: Chart
    alerts: list[Alert]


class OpioidSafety:
    """Build once per process (it owns a rule engine); then one `evaluate` per patient."""

    def __init__(self, rules_dir: Path = OPIOID_SAFETY_DIR,
                 sources_file: Path = RULES_DIR / "reference" / "sources.yaml") -> None:
        self.rulebook: Rulebook = load_rulebook(rules_dir, sources_file)
        self.engine = Engine(self.rulebook.engine_rules())
        preload()

    def evaluate(self, resources: Iterable[Any], today: date, patient_id: str | None = None) -> PackEvaluation:
        """`resources`: FHIR resources, Bundles of them, or prefetch values ({"resource": ...})."""
        chart = read_chart(flatten(resources), today, patient_id)
        return PackEvaluation(chart, build_alerts(self.rulebook, self.engine.evaluate([chart.fact()])))


def flatten(values: Iterable[Any], depth: int = 0) -> Iterator[Mapping[str, Any]]:
    """Every resource in `values`: bare, wrapped as a prefetch/Bundle entry, or inside Bundles."""
    for value in values:
        if not isinstance(value, Mapping):
            continue
        if "resourceType" not in value and isinstance(value.get("resource"), Mapping):
            value = value["resource"]
        if value.get("resourceType") == "Bundle":
            if depth < _MAX_DEPTH:
                yield from flatten((entry for entry in value.get("entry") or () if isinstance(entry, Mapping)),
                                   depth + 1)
        elif isinstance(value.get("resourceType"), str):
            yield value
