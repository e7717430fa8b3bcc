"""bench/synthetic_export.py, the panel these tests and the screening benchmark use: deterministic,
about 13 resources a patient, and coded with codes that really are in the terminology it claims."""

from __future__ import annotations

import csv
import json
from datetime import date, timedelta
from pathlib import Path

import orjson

from bench.synthetic_export import BENZODIAZEPINES, OPIOIDS, generate

from .conftest import ROOT

AS_OF = date(2026, 11, 23)
TERMINOLOGY = ROOT / "rules" / "terminology"


def resources(directory: Path, kind: str) -> list[dict]:
    return [orjson.loads(line) for line in (directory / f"{kind}.ndjson").read_bytes().splitlines()]


def test_the_same_seed_gives_the_same_bytes_and_another_seed_other_patients(tmp_path: Path) -> None:
    generate(tmp_path / "a", 50, seed=3, as_of=AS_OF)
    generate(tmp_path / "b", 50, seed=3, as_of=AS_OF)
    generate(tmp_path / "c", 50, seed=4, as_of=AS_OF)
    for path in (tmp_path / "a").iterdir():
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name
    assert (tmp_path / "a" / "Patient.ndjson").read_bytes() != (tmp_path / "c" / "Patient.ndjson").read_bytes()


def test_a_bulk_data_export_of_about_13_resources_a_patient(synthetic_export: Path) -> None:
    names = sorted(p.name for p in synthetic_export.iterdir())
    assert names == ["Condition.ndjson", "Encounter.ndjson", "Medication.ndjson", "MedicationRequest.ndjson",
                     "MedicationStatement.ndjson", "Observation.ndjson", "Patient.ndjson"]
    total = sum(len(p.read_bytes().splitlines()) for p in synthetic_export.iterdir())
    patients = resources(synthetic_export, "Patient")
    assert len(patients) == 300 == len({p["id"] for p in patients})
    assert 11.5 <= total / 300 <= 14.5


def test_orders_are_active_community_orders_of_the_last_two_years(synthetic_export: Path) -> None:
    orders = resources(synthetic_export, "MedicationRequest")
    assert {o["status"] for o in orders} <= {"active", "completed", "stopped"}
    assert sum(o["status"] == "active" for o in orders) > 0.8 * len(orders)
    assert all(o["category"][0]["coding"][0] == {
        "system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category", "code": "community",
        "display": "Community"} for o in orders)
    assert all(AS_OF - timedelta(days=2 * 366) <= date.fromisoformat(o["authoredOn"]) <= AS_OF for o in orders)


def test_drug_codes_are_really_in_the_product_list_and_the_value_set(synthetic_export: Path) -> None:
    products = {row["drugCode"]: row["drugName"]
                for row in csv.DictReader((TERMINOLOGY / "opioid-products.csv").read_text(encoding="utf-8").splitlines())}
    benzodiazepines = {c["code"]: c["display"] for c in json.loads(
        (TERMINOLOGY / "valuesets" / "benzodiazepine-medications.json").read_text(encoding="utf-8"))["expansion"]["contains"]}
    assert all(products[code] == name for code, name, *_ in OPIOIDS)
    assert all(benzodiazepines[code] == name for code, name, *_ in BENZODIAZEPINES)
    coded = {c["code"] for o in resources(synthetic_export, "MedicationRequest")
             for c in o.get("medicationCodeableConcept", {}).get("coding", ())}
    assert coded & set(products) and coded & set(benzodiazepines) and "7243" in coded


def test_the_panel_has_ldn_uldn_pregnancy_and_the_labs_the_rules_read(synthetic_export: Path) -> None:
    orders = resources(synthetic_export, "MedicationRequest")
    doses = {(d["doseAndRate"][0]["doseQuantity"]["value"], d["doseAndRate"][0]["doseQuantity"]["unit"])
             for o in orders if "naltrexone" in json.dumps(o).lower() or "LDN" in json.dumps(o)
             for d in o["dosageInstruction"]}
    assert {(1.5, "mg"), (3.0, "mg"), (4.5, "mg")} <= doses and any(unit == "ug" for _, unit in doses)
    assert any(not o.get("medicationCodeableConcept", {}).get("coding") and "LDN" in o["medicationCodeableConcept"]["text"]
               for o in orders if "medicationCodeableConcept" in o)  # compounded, text only
    conditions = {c["code"]["coding"][0]["code"] for c in resources(synthetic_export, "Condition")}
    assert {"Z33.1", "77386006"} & conditions
    loinc = {o["code"]["coding"][0]["code"] for o in resources(synthetic_export, "Observation")}
    assert {"1742-6", "1920-8", "98979-8"} <= loinc
