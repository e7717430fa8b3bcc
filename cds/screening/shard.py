"""One shard → its output part, sorted by patient id, and its counts (a task: runs on any worker).

The shard's lines are grouped by patient as raw bytes (a shard's lines fit in memory; parsed, they
would take several times as much), then each patient is parsed, screened and written in patient
id order. Bundles (a file of one Bundle per patient) are opened into their resources here.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import orjson

from .evaluator import process_evaluator
from .layout import Layout
from .ndjson import loads
from .patient import screen_patient
from .references import medication_reference
from .summary import Summary

_MEDICATION_KEY = b"M:"
_ORDERS = ("MedicationRequest", "MedicationStatement")


def screen_shard(shard: int, layout: Layout, as_of: datetime) -> Summary:
    """Screen every patient of `shard` into `layout.part_file(shard)`: `<patient id>\\t<json>` lines.
    Idempotent (the part is overwritten), so Dask may retry it."""
    evaluator = process_evaluator()
    by_patient: dict[bytes, list[bytes]] = {}
    medications: dict[bytes, bytes] = {}
    for part in sorted(layout.shard_dir(shard).iterdir()):  # chunk order, then the joined Medications
        with open(part, "rb") as handle:
            for raw in handle:
                key, _, data = raw.partition(b"\t")
                if key.startswith(_MEDICATION_KEY):
                    medications.setdefault(key[len(_MEDICATION_KEY):], data)
                else:
                    by_patient.setdefault(key, []).append(data)
    summary = Summary()
    parsed_medications: dict[bytes, Any] = {}
    with open(layout.part_file(shard), "wb") as output:
        for key in sorted(by_patient):
            resources = group(by_patient.pop(key), medications, parsed_medications)
            line = screen_patient(key.decode(), resources, as_of, evaluator)
            summary.add_patient(line)
            output.write(key + b"\t" + orjson.dumps(line) + b"\n")
    return summary


def group(lines: list[bytes], medications: Mapping[bytes, bytes], parsed: dict[bytes, Any]) -> dict[str, list[Any]]:
    """A patient's lines as resources by type (Bundles opened), with the Medications they reference."""
    resources: dict[str, list[Any]] = {}
    for data in lines:
        resource = loads(data)
        if resource.get("resourceType") == "Bundle":
            for entry in resource.get("entry") or ():
                inner = entry.get("resource") if isinstance(entry, Mapping) else None
                if isinstance(inner, Mapping) and isinstance(inner.get("resourceType"), str):
                    resources.setdefault(inner["resourceType"], []).append(inner)
        else:
            resources.setdefault(resource["resourceType"], []).append(resource)
    wanted = {found.encode() for kind in _ORDERS for resource in resources.get(kind, ())
              if (found := medication_reference(resource)) is not None}
    for medication in sorted(wanted):
        if medication in medications:
            if medication not in parsed:
                parsed[medication] = loads(medications[medication])
            resources.setdefault("Medication", []).append(parsed[medication])
    return resources
