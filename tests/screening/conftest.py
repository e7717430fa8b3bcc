"""Shared data for the screening tests: FHIR resources written by hand, and a small synthetic export."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # bench/ is not an installed package

from bench.synthetic_export import generate  # noqa: E402

AS_OF = datetime(2026, 11, 23, 12, 0, tzinfo=timezone.utc)
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
LOINC = "http://loinc.org"


def patient(pid: str, gender: str = "female", born: str = "1970-05-01") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "gender": gender, "birthDate": born}


def order(pid: str, rid: str, code: str | None, text: str, dose: float | None = None, unit: str = "mg",
          timing: str = "QD", status: str = "active", **extra: Any) -> dict[str, Any]:
    """A MedicationRequest as EHRs export them."""
    concept: dict[str, Any] = {"text": text}
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code}]
    resource: dict[str, Any] = {"resourceType": "MedicationRequest", "id": rid, "status": status, "intent": "order",
                                "subject": {"reference": f"Patient/{pid}"}, "medicationCodeableConcept": concept,
                                "authoredOn": "2026-10-01", **extra}
    if dose is not None:
        resource["dosageInstruction"] = [{"timing": {"code": {"coding": [{"code": timing}]}},
                                          "doseAndRate": [{"doseQuantity": {"value": dose, "unit": unit, "code": unit}}]}]
    return resource


def ldn(pid: str, rid: str = "ldn") -> dict[str, Any]:
    return order(pid, rid, "7243", "naltrexone 4.5 mg capsule (compounded LDN)", 4.5, "mg", "HS")


def oxycodone(pid: str, rid: str = "oxy") -> dict[str, Any]:
    return order(pid, rid, "1049621", "oxycodone hydrochloride 5 MG Oral Tablet", 5, "mg", "Q6H")


def alt(pid: str, rid: str, value: float, when: str = "2026-11-01T09:00:00Z") -> dict[str, Any]:
    return {"resourceType": "Observation", "id": rid, "status": "final", "subject": {"reference": f"Patient/{pid}"},
            "code": {"coding": [{"system": LOINC, "code": "1742-6"}]}, "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": "U/L", "code": "U/L"}}


def write_ndjson(path: Path, resources: list[Any]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in resources))
    return path


@pytest.fixture(scope="session")
def synthetic_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 synthetic patients (bench/synthetic_export.py), the same on every run."""
    directory = tmp_path_factory.mktemp("export")
    generate(directory, patients=300, seed=7, as_of=date(2026, 11, 23))
    return directory


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[Any]:
    """A real Dask cluster of two single-threaded worker processes, on the loopback interface."""
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0",
                      silence_logs=logging.ERROR) as cluster:
        yield cluster
