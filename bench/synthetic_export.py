"""A synthetic FHIR R4 Bulk Data export, for screening benchmarks and tests.

    python bench/synthetic_export.py OUT_DIR --patients 100000 --seed 1 [--as-of 2026-11-23]

Writes Patient, Encounter, Condition, MedicationRequest, MedicationStatement, Observation and
Medication NDJSON files (one resource a line, as `$export` does), about 13 resources per patient.
Nobody in it is real. The mix is meant to look like a primary-care panel with pain patients in it:

* about 8% on LDN (naltrexone 1.5, 3 or 4.5 mg at bedtime, coded RxNorm 7243 or compounded text
  only), some of them with an active or recently stopped opioid, a second naltrexone, cirrhosis,
  raised liver enzymes, kidney disease or a transplant;
* about 2% on ULDN (naltrexone micrograms, now and then written in mg by mistake) while tapering
  an opioid;
* about 15% on opioids (oxycodone, hydrocodone/APAP, morphine, tramadol, fentanyl patches: RxNorm
  SCDs from rules/terminology/opioid-products.csv), about 10% on benzodiazepines (SCDs from the
  CDC benzodiazepine value set), some on zolpidem, some with a naloxone kit;
* conditions in ICD-10-CM or SNOMED CT, ALT/AST/eGFR (and some creatinine and hCG) in LOINC with
  UCUM units, pregnancy for some women of child-bearing age;
* MedicationRequests active (some completed or stopped), intent order, category community,
  authored within the two years before `--as-of`; a few name their drug by medicationReference to
  a Medication resource (Medication.ndjson), as some EHRs export them.

Deterministic: the same `--seed`, `--patients` and `--as-of` give the same bytes. Streaming: one
patient at a time, written in blocks, so memory stays flat whatever the size.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

try:
    import orjson

    def _dumps(resource: dict[str, Any]) -> bytes:
        return orjson.dumps(resource)
except ImportError:  # the benchmark also runs without the service installed
    import json

    def _dumps(resource: dict[str, Any]) -> bytes:
        return json.dumps(resource, separators=(",", ":")).encode()

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
TYPES = ("Patient", "Encounter", "Condition", "MedicationRequest", "MedicationStatement", "Observation",
         "Medication")
FLUSH_EVERY = 500  # patients per block written

# ---- drugs: (RxNorm SCD, display, dose value, dose unit, timing code, sig) -------------------
Drug = tuple[str, str, float, str, str, str]
# rules/terminology/opioid-products.csv
OPIOIDS: tuple[Drug, ...] = (
    ("1049621", "oxycodone hydrochloride 5 MG Oral Tablet", 5, "mg", "Q6H", "1 tablet every 6 hours as needed"),
    ("1049683", "oxycodone hydrochloride 10 MG Oral Tablet", 10, "mg", "Q8H", "1 tablet every 8 hours"),
    ("1049502", "12 HR oxycodone hydrochloride 10 MG Extended Release Oral Tablet", 10, "mg", "BID",
     "1 tablet every 12 hours"),
    ("1049221", "acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet", 1, "tablet", "Q6H",
     "1 tablet every 6 hours as needed"),
    ("857002", "acetaminophen 325 MG / hydrocodone bitartrate 5 MG Oral Tablet", 1, "tablet", "Q6H",
     "1 tablet every 6 hours as needed"),
    ("856999", "acetaminophen 325 MG / hydrocodone bitartrate 10 MG Oral Tablet", 1, "tablet", "Q8H",
     "1 tablet every 8 hours as needed"),
    ("892582", "morphine sulfate 15 MG Oral Tablet", 15, "mg", "Q8H", "1 tablet every 8 hours as needed"),
    ("891878", "12 HR morphine sulfate 15 MG Extended Release Oral Tablet", 15, "mg", "BID", "1 tablet twice daily"),
    ("835603", "tramadol hydrochloride 50 MG Oral Tablet", 50, "mg", "Q6H", "1 tablet every 6 hours as needed"),
    ("245134", "72 HR fentanyl 0.025 MG/HR Transdermal System", 1, "patch", "Q72H", "apply 1 patch every 72 hours"),
    ("245135", "72 HR fentanyl 0.05 MG/HR Transdermal System", 1, "patch", "Q72H", "apply 1 patch every 72 hours"),
)
# The CDC benzodiazepine value set (rules/terminology/valuesets/benzodiazepine-medications.json)
BENZODIAZEPINES: tuple[Drug, ...] = (
    ("308048", "alprazolam 0.5 MG Oral Tablet", 0.5, "mg", "TID", "1 tablet three times daily as needed"),
    ("308047", "alprazolam 0.25 MG Oral Tablet", 0.25, "mg", "BID", "1 tablet twice daily"),
    ("197901", "lorazepam 1 MG Oral Tablet", 1, "mg", "BID", "1 tablet twice daily as needed"),
    ("197527", "clonazepam 0.5 MG Oral Tablet", 0.5, "mg", "BID", "1 tablet twice daily"),
    ("197591", "diazepam 5 MG Oral Tablet", 5, "mg", "TID", "1 tablet three times daily as needed"),
)
# The CDC CNS depressant value set (cns-depressant-medications.json)
ZOLPIDEM: Drug = ("854873", "zolpidem tartrate 10 MG Oral Tablet", 10, "mg", "HS", "1 tablet at bedtime")
NALOXONE: Drug = ("1725059", "naloxone hydrochloride 40 MG/ML Nasal Spray", 1, "spray", "", "1 spray in one nostril "
                  "for suspected overdose; may repeat")  # the CDC naloxone value set
TACROLIMUS: Drug = ("42316", "tacrolimus", 1, "mg", "BID", "1 mg twice daily")  # the ingredient code
BACKGROUND: tuple[Drug, ...] = (
    ("861007", "metformin hydrochloride 500 MG Oral Tablet", 500, "mg", "BID", "1 tablet twice daily with meals"),
    ("314076", "lisinopril 10 MG Oral Tablet", 10, "mg", "QD", "1 tablet daily"),
    ("197361", "amlodipine 5 MG Oral Tablet", 5, "mg", "QD", "1 tablet daily"),
    ("312940", "sertraline 50 MG Oral Tablet", 50, "mg", "QD", "1 tablet daily"),
    ("310798", "hydrochlorothiazide 25 MG Oral Tablet", 25, "mg", "QD", "1 tablet daily"),
    ("310965", "ibuprofen 200 MG Oral Tablet", 400, "mg", "TID", "2 tablets three times daily as needed"),
    ("313782", "acetaminophen 325 MG Oral Tablet", 650, "mg", "Q6H", "2 tablets every 6 hours as needed"),
)
LDN_MG = (1.5, 3.0, 4.5, 4.5, 4.5)
ULDN_MCG = (0.5, 1.0, 1.0, 2.0)

# ---- conditions: (ICD-10-CM, SNOMED CT or None, display) ----------------------------------------
Condition = tuple[str, str | None, str]
COMMON: tuple[Condition, ...] = (
    ("I10", "38341003", "Essential hypertension"),
    ("E11.9", "44054006", "Type 2 diabetes mellitus without complications"),
    ("F32.9", "35489007", "Major depressive disorder, single episode"),
    ("F41.1", "21897009", "Generalized anxiety disorder"),
    ("M54.50", "279039007", "Low back pain"),
    ("M17.11", "239873007", "Primary osteoarthritis, right knee"),
    ("E78.5", "55822004", "Hyperlipidemia"),
)
LDN_INDICATIONS: tuple[Condition, ...] = (
    ("M79.7", "203082005", "Fibromyalgia"),
    ("G35", "24700007", "Multiple sclerosis"),
    ("K50.90", "34000006", "Crohn's disease"),
    ("G89.29", "82423001", "Other chronic pain"),
    ("U09.9", None, "Post COVID-19 condition"),
)
CIRRHOSIS: Condition = ("K74.60", "19943007", "Unspecified cirrhosis of liver")
CKD4: Condition = ("N18.4", "431857002", "Chronic kidney disease, stage 4 (severe)")
ESRD: Condition = ("N18.6", "46177005", "End stage renal disease")
KIDNEY_TRANSPLANT: Condition = ("Z94.0", "161665007", "Kidney transplant status")
OUD: Condition = ("F11.20", "75544000", "Opioid dependence, uncomplicated")
PREGNANCY: Condition = ("Z33.1", "77386006", "Pregnant state, incidental")

GIVEN_F = ("Mary", "Patricia", "Jennifer", "Linda", "Elizabeth", "Susan", "Jessica", "Sarah", "Karen", "Ana")
GIVEN_M = ("James", "Robert", "John", "Michael", "David", "William", "Richard", "Joseph", "Thomas", "Luis")
FAMILY = ("Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
          "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin")

_CATEGORY = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/medicationrequest-category",
                          "code": "community", "display": "Community"}]}]
_PROBLEM = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category",
                         "code": "problem-list-item", "display": "Problem List Item"}]}]
_CLINICAL = {status: {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                  "code": status}]} for status in ("active", "resolved")}
_CONFIRMED = {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-ver-status", "code": "confirmed"}]}
_LAB = [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "laboratory"}]}]
_AMBULATORY = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"}
_OFFICE_VISIT = [{"coding": [{"system": SNOMED, "code": "185349003", "display": "Encounter for check up"}]}]


class Writer:
    """One NDJSON file per resource type, written in blocks (memory stays flat)."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.files = {kind: (directory / f"{kind}.ndjson").open("wb", buffering=1 << 20) for kind in TYPES}
        self.blocks: dict[str, list[bytes]] = {kind: [] for kind in TYPES}
        self.counts = dict.fromkeys(TYPES, 0)

    def add(self, resource: dict[str, Any]) -> None:
        kind = resource["resourceType"]
        self.blocks[kind].append(_dumps(resource))
        self.counts[kind] += 1

    def flush(self) -> None:
        for kind, block in self.blocks.items():
            if block:
                self.files[kind].write(b"\n".join(block) + b"\n")
                block.clear()

    def close(self) -> None:
        self.flush()
        for handle in self.files.values():
            handle.close()


class Panel:
    """Draws patients from one seeded random generator."""

    def __init__(self, seed: int, as_of: date, writer: Writer) -> None:
        self.rng = random.Random(seed)
        self.as_of = as_of
        self.writer = writer
        self.medications_written: set[str] = set()

    # ---- helpers ---------------------------------------------------------------------------
    def days_ago(self, low: int, high: int) -> str:
        return (self.as_of - timedelta(days=self.rng.randint(low, high))).isoformat()

    def condition(self, pid: str, number: int, condition: Condition, status: str = "active") -> None:
        icd, snomed, display = condition
        if snomed and self.rng.random() < 0.3:
            coding = {"system": SNOMED, "code": snomed, "display": display}
        else:
            coding = {"system": ICD10CM, "code": icd, "display": display}
        self.writer.add({
            "resourceType": "Condition", "id": f"{pid}-c{number}", "clinicalStatus": _CLINICAL[status],
            "verificationStatus": _CONFIRMED, "category": _PROBLEM, "code": {"coding": [coding], "text": display},
            "subject": {"reference": f"Patient/{pid}"}, "onsetDateTime": self.days_ago(60, 3650),
            "recordedDate": self.days_ago(30, 60)})

    def request(self, pid: str, number: int, drug: Drug, status: str = "active", *,
                code: str | None = "", text: str | None = None, dose: float | None = None,
                unit: str | None = None, ended_days_ago: int | None = None) -> None:
        """A MedicationRequest; `code=None` for text only (compounded), `code=""` for the drug's own."""
        own, display, default_dose, default_unit, timing, sig = drug
        rxcui = own if code == "" else code
        authored = self.days_ago(ended_days_ago + 30, ended_days_ago + 200) if ended_days_ago is not None \
            else self.days_ago(0, 730)
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest", "id": f"{pid}-mr{number}", "status": status, "intent": "order",
            "category": _CATEGORY, "subject": {"reference": f"Patient/{pid}"}, "authoredOn": authored,
        }
        if rxcui and self.rng.random() < 0.05:  # some EHRs export the drug as a Medication resource
            resource["medicationReference"] = {"reference": f"Medication/rx{rxcui}", "display": display}
            self.medication(rxcui, display)
        else:
            concept: dict[str, Any] = {"text": text or display}
            if rxcui:
                concept["coding"] = [{"system": RXNORM, "code": rxcui, "display": display}]
            resource["medicationCodeableConcept"] = concept
        dosage: dict[str, Any] = {"text": sig}
        if timing:
            dosage["timing"] = {"code": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation",
                                                     "code": timing}], "text": timing}}
        value, unit = dose if dose is not None else default_dose, unit or default_unit
        dosage["doseAndRate"] = [{"doseQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}]
        resource["dosageInstruction"] = [dosage]
        if ended_days_ago is not None:
            end = (self.as_of - timedelta(days=ended_days_ago)).isoformat()
            resource["dispenseRequest"] = {"validityPeriod": {"start": authored, "end": end}}
        elif self.rng.random() < 0.5:
            resource["dispenseRequest"] = {"expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM,
                                                                      "code": "d"},
                                           "numberOfRepeatsAllowed": self.rng.randint(0, 5)}
        self.writer.add(resource)

    def medication(self, rxcui: str, display: str) -> None:
        if rxcui not in self.medications_written:
            self.medications_written.add(rxcui)
            self.writer.add({"resourceType": "Medication", "id": f"rx{rxcui}",
                             "code": {"coding": [{"system": RXNORM, "code": rxcui, "display": display}],
                                      "text": display}})

    def statement(self, pid: str, number: int, text: str, code: str | None = None,
                  status: str = "active") -> None:
        concept: dict[str, Any] = {"text": text}
        if code:
            concept["coding"] = [{"system": RXNORM, "code": code}]
        self.writer.add({
            "resourceType": "MedicationStatement", "id": f"{pid}-ms{number}", "status": status,
            "medicationCodeableConcept": concept, "subject": {"reference": f"Patient/{pid}"},
            "effectivePeriod": {"start": self.days_ago(30, 700)}, "dosage": [{"text": text}]})

    def lab(self, pid: str, number: int, loinc: str, display: str, value: float | None, unit: str | None,
            high: float | None = None, result: tuple[str, str] | None = None) -> None:
        resource: dict[str, Any] = {
            "resourceType": "Observation", "id": f"{pid}-o{number}", "status": "final", "category": _LAB,
            "code": {"coding": [{"system": LOINC, "code": loinc, "display": display}], "text": display},
            "subject": {"reference": f"Patient/{pid}"}, "effectiveDateTime": self.days_ago(1, 400) + "T09:30:00Z",
        }
        if result is not None:
            resource["valueCodeableConcept"] = {"coding": [{"system": SNOMED, "code": result[0], "display": result[1]}]}
        else:
            resource["valueQuantity"] = {"value": value, "unit": unit, "system": UCUM, "code": unit}
            if high is not None:
                resource["referenceRange"] = [{"high": {"value": high, "unit": unit, "system": UCUM, "code": unit}}]
        self.writer.add(resource)

    # ---- one patient -----------------------------------------------------------------------
    def patient(self) -> None:
        rng = self.rng
        pid = f"{rng.getrandbits(64):016x}"
        roll = rng.random()
        sex = "female" if roll < 0.52 else "male" if roll < 0.995 else "unknown"
        age = rng.randint(18, 90)
        born = self.as_of.replace(year=self.as_of.year - age, day=1) - timedelta(days=rng.randint(0, 360))
        given = GIVEN_F if sex == "female" else GIVEN_M
        self.writer.add({"resourceType": "Patient", "id": pid, "active": True,
                         "name": [{"family": rng.choice(FAMILY), "given": [rng.choice(given)]}],
                         "gender": sex, "birthDate": born.isoformat()})
        for number in range(rng.choice((1, 1, 2, 2, 2, 3))):
            start = self.days_ago(1, 700)
            self.writer.add({"resourceType": "Encounter", "id": f"{pid}-e{number}", "status": "finished",
                             "class": _AMBULATORY, "type": _OFFICE_VISIT, "subject": {"reference": f"Patient/{pid}"},
                             "period": {"start": start + "T10:00:00Z", "end": start + "T10:30:00Z"}})

        conditions = rng.sample(COMMON, rng.choice((1, 2, 2, 3, 3)))
        background = rng.sample(BACKGROUND, rng.choice((1, 2, 3, 3, 4)))
        requests: list[tuple[Drug, dict[str, Any]]] = [(drug, {}) for drug in background]  # (drug, request options)
        statements: list[tuple[str, str | None]] = []  # (text, RxNorm code)
        liver_high = False
        cohort = rng.random()
        if cohort < 0.08:  # LDN
            mg = rng.choice(LDN_MG)
            conditions.append(rng.choice(LDN_INDICATIONS))
            ldn: Drug = ("7243", "naltrexone", mg, "mg", "HS", f"take {mg:g} mg at bedtime")
            if rng.random() < 0.6:
                requests.append((ldn, {"text": f"naltrexone {mg:g} mg capsule (compounded LDN)"}))
            else:  # text only, as a compounding pharmacy's record reads
                requests.append((ldn, {"code": None, "text": f"LDN {mg:g} mg compounded capsule"}))
            extra = rng.random()
            if extra < 0.25:
                requests.append((rng.choice(OPIOIDS), {}))
            elif extra < 0.35:  # stopped within the opioid-free interval
                stopped = {"status": "completed", "ended_days_ago": rng.randint(2, 20)}
                requests.append((rng.choice(OPIOIDS[:9]), stopped))
            elif extra < 0.40:
                statements.append(("naltrexone 50 mg tablet daily", "7243"))
            elif extra < 0.45:
                conditions.append(CIRRHOSIS)
                liver_high = True
            elif extra < 0.48:
                conditions.append(rng.choice((CKD4, ESRD)))
            elif extra < 0.50:
                conditions.append(KIDNEY_TRANSPLANT)
                requests.append((TACROLIMUS, {}))
        elif cohort < 0.10:  # ULDN while tapering an opioid
            mcg = rng.choice(ULDN_MCG)
            in_mg = rng.random() < 0.1  # the 1000x slip the dose rules catch
            uldn: Drug = ("7243", "naltrexone", mcg, "ug", "BID", f"{mcg:g} mcg twice daily")
            requests.append((uldn, {"text": f"ULDN naltrexone {mcg:g} mcg (compounded)",
                                    "unit": "mg" if in_mg else "ug"}))
            requests.append((rng.choice(OPIOIDS), {}))
            conditions.append(rng.choice((OUD, LDN_INDICATIONS[3])))
        elif cohort < 0.25:  # opioids
            requests.append((rng.choice(OPIOIDS), {}))
            if rng.random() < 0.3:
                requests.append((NALOXONE, {}))
            if rng.random() < 0.1:
                conditions.append(OUD)
        if rng.random() < 0.10:
            requests.append((rng.choice(BENZODIAZEPINES), {}))
        if rng.random() < 0.03:
            requests.append((ZOLPIDEM, {}))
        if rng.random() < 0.2:
            requests.append((rng.choice(BACKGROUND), {"status": "stopped", "ended_days_ago": rng.randint(30, 400)}))
        if rng.random() < 0.5:
            statements.append(("Vitamin D3 2000 IU daily", None))
        if rng.random() < 0.25:
            statements.append(("ibuprofen 200 mg 2 tablets as needed", "310965"))
        pregnant = sex == "female" and age <= 45 and rng.random() < 0.06
        if pregnant:
            conditions.append(PREGNANCY)

        for number, condition in enumerate(conditions):
            self.condition(pid, number, condition)
        if rng.random() < 0.15:
            self.condition(pid, len(conditions), rng.choice(COMMON), status="resolved")
        for number, (drug, options) in enumerate(requests):
            self.request(pid, number, drug, **options)
        for number, (text, code) in enumerate(statements):
            self.statement(pid, number, text, code)

        number = 0
        if rng.random() < 0.85:
            alt = rng.randint(150, 400) if liver_high else rng.randint(8, 60)
            self.lab(pid, 0, "1742-6", "ALT [Enzymatic activity/volume] in Serum or Plasma", alt, "U/L", 40)
            self.lab(pid, 1, "1920-8", "AST [Enzymatic activity/volume] in Serum or Plasma",
                     rng.randint(120, 300) if liver_high else rng.randint(10, 55), "U/L", 40)
            low = rng.random() < 0.05  # CKD stage 4 or 5
            egfr = rng.choice((rng.randint(15, 29), rng.randint(5, 14))) if low else rng.randint(45, 120)
            self.lab(pid, 2, "98979-8", "Glomerular filtration rate/1.73 sq M.predicted [Volume Rate/Area] in "
                     "Serum, Plasma or Blood by Creatinine-based formula (CKD-EPI 2021)", egfr, "mL/min/{1.73_m2}")
            number = 3
        if number and rng.random() < 0.4:  # an earlier ALT: results have a history
            self.lab(pid, number, "1742-6", "ALT [Enzymatic activity/volume] in Serum or Plasma", rng.randint(8, 60),
                     "U/L", 40)
            number += 1
        if rng.random() < 0.4:
            self.lab(pid, number, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma",
                     round(rng.uniform(0.6, 1.4), 2), "mg/dL", 1.3)
            number += 1
        if sex == "female" and age <= 50 and (pregnant or rng.random() < 0.1):
            self.lab(pid, number, "2106-3", "Choriogonadotropin (pregnancy test) [Presence] in Urine", None, None,
                     result=("10828004", "Positive") if pregnant else ("260385009", "Negative"))


def generate(directory: Path, patients: int, seed: int, as_of: date) -> dict[str, int]:
    writer = Writer(directory)
    panel = Panel(seed, as_of, writer)
    try:
        for number in range(patients):
            panel.patient()
            if number % FLUSH_EVERY == FLUSH_EVERY - 1:
                writer.flush()
    finally:
        writer.close()
    return writer.counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="directory to write the export to (created)")
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date.today(),
                        help="the day the export is taken (dates fall before it); default today")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.out_dir, args.patients, args.seed, args.as_of)
    elapsed = time.perf_counter() - started
    total = sum(counts.values())
    print(f"{args.patients:,} patients, {total:,} resources ({total / max(args.patients, 1):.1f} a patient) "
          f"as of {args.as_of} in {elapsed:.1f} s: " + ", ".join(f"{k} {v:,}" for k, v in counts.items()),
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
