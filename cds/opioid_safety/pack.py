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
from ..rulebook import OPIOID_SAFETY_PACK, RULES_DIR, Rulebook, load_rulebook
from .chart import Chart, preload, read_chart

_MAX_DEPTH = 3  # Bundles inside Bundles (a batch-response of searchsets) are opened this deep


@dataclass(frozen=True, slots=True)
class PackEvaluation:
    chart: Chart
    alerts: list[Alert]


class OpioidSafety:
    """Build once per process (it owns a rule engine); then one `evaluate` per patient."""

    def __init__(self, root: Path = RULES_DIR, rulebook: Rulebook | None = None) -> None:
        self.rulebook: Rulebook = rulebook or load_rulebook(root, OPIOID_SAFETY_PACK)
        self.engine = Engine(self.rulebook.engine_rules())
        preload()

    def evaluate(self, resources: Iterable[Any], today: date, patient_id: str | None = None) -> PackEvaluation:
        """`resources`: FHIR resources, Bundles of them, or prefetch values ({"resource": ...})."""
        chart = read_chart(flatten(resources), today, patient_id)
        return PackEvaluation(chart, build_alerts(self.rulebook, self.engine.evaluate([chart.fact()])))


def flatten(values: Iterable[Any]) -> list[Mapping[str, Any]]:
    """Every resource in `values` (bare, wrapped as a prefetch/Bundle entry, or inside Bundles), each
    (type, id) once: the same resource sent twice (paged searches repeat `_include`d Medications; two
    prefetch keys may overlap) is one resource, so an encounter is never counted twice."""
    found: list[Mapping[str, Any]] = []
    seen: set[tuple[str, str]] = set()
    for resource in _resources(values, 0):
        key = resource.get("id")
        if isinstance(key, str):
            if (resource["resourceType"], key) in seen and any(
                    r.get("id") == key and r["resourceType"] == resource["resourceType"] and r == resource
                    for r in found):
                continue  # an identical copy; a different resource with the same id stays (and is reported)
            seen.add((resource["resourceType"], key))
        found.append(resource)
    return found


def _resources(values: Iterable[Any], depth: int) -> Iterator[Mapping[str, Any]]:
    for value in values:
        if not isinstance(value, dict):
            continue
        if "resourceType" not in value and isinstance(value.get("resource"), dict):
            value = value["resource"]
        if value.get("resourceType") == "Bundle":
            entries = value.get("entry")
            if depth < _MAX_DEPTH and isinstance(entries, list):
                yield from _resources(entries, depth + 1)
        elif isinstance(value.get("resourceType"), str):
            yield value
