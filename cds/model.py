"""The normalized patient model: one shape for every input, and the facts rules see.

Adapters (JSON API, CLI, later CDS Hooks and bulk screening) build a `PatientRecord`; the
engine only ever sees `PatientRecord.facts()`. `FACT_FIELDS` is the vocabulary rule files may
use: one place, checked when rules load.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# Fact field kinds: "number", "text" (free, shown to people), "yes/no", or a tuple of the
# words the field may hold (rule files are checked against it).
SEX = ("female", "male", "other", "unknown")
PREGNANCY = ("pregnant", "not-pregnant", "unknown")
LACTATION = ("lactating", "not-lactating", "unknown")
STATUS = ("active", "on-hold", "stopped", "unknown")
ROUTES = ("systemic", "topical")
OPIOID_USE = ("analgesic", "antitussive", "antidiarrheal", "peripheral antidiarrheal", "maintenance")
# "unknown": naltrexone whose daily dose could not be worked out, so it is not known to be ULDN.
DOSE_BANDS = ("uldn", "vldn", "ldn", "above-ldn", "standard", "above-maximum", "unknown")
PURPOSES = ("uldn", "vldn", "ldn", "standard")
AGE_GROUPS = ("adult", "under-18", "unknown")  # "unknown": no birth date, or one too vague to tell
CLASSES = (
    "naltrexone",
    "opioid-antagonist",
    "naloxone-rescue",
    "opioid-agonist",
    "immunosuppressant",
    "corticosteroid",
    "benzodiazepine",
    "cns-depressant",
    "interacting-thioridazine",
    "interacting-disulfiram",
)
CONCEPTS = (
    "hepatic-failure",
    "cirrhosis",
    "acute-hepatitis",
    "ckd-4-5",
    "dialysis",
    "transplant",
    "pregnancy",
    "lactation",
    "opioid-use-disorder",
    "long-term-opioid-use",
)
ANALYTES = ("alt", "ast", "bilirubin", "creatinine", "egfr", "hcg", "pregnancy-status", "urine-opioid-screen")
PROBLEMS = (
    "unrecognised-medication",
    "unresolved-dose",
    "unresolved-naltrexone-dose",
    "unrecognised-lab-unit",
    "conflicting-record",
)

_MEDICATION_FIELDS: dict[str, Any] = {
    "name": "text",
    "product": "text",
    "ingredient": "text",
    "class": CLASSES,
    "opioid_use": OPIOID_USE,
    "status": STATUS,
    "route": ROUTES,
    "daily_dose_mg": "number",
    "doses_per_day": "number",
    "dose": "text",
    "dose_band": DOSE_BANDS,
    "purpose": PURPOSES,
    "dose_matches_purpose": "yes/no",
    "time_of_day": ("bedtime", "morning"),
    "days_since_started": "number",
    "days_since_stopped": "number",
}

FACT_FIELDS: dict[str, dict[str, Any]] = {
    "patient": {
        "age_years": "number",
        "sex": SEX,
        "pregnancy": PREGNANCY,
        "pregnancy_evidence": "text",
        "lactation": LACTATION,
        "lactation_evidence": "text",
    },
    # The proposed order and the current medication list share one shape; an order may be a
    # current prescription under review rather than a new one.
    "order": {**_MEDICATION_FIELDS, "under_review": "yes/no"},
    "medication": _MEDICATION_FIELDS,
    # The opioid-safety pack's reading of a FHIR chart (cds/opioid_safety/chart.py): CDC 2022
    # Recommendation 11 as the CDC opioid CDS IG computes it.
    "chart": {
        "opioid_prescription": "yes/no",
        "benzodiazepine_or_cns_depressant_prescription": "yes/no",
        "age_group": AGE_GROUPS,
        "sickle_cell_disease": "yes/no",
        "active_cancer_treatment": "yes/no",
        "condition_likely_terminal": "yes/no",
        "end_of_life": "yes/no",
    },
    "condition": {
        "concept": CONCEPTS,
        "name": "text",
        "code": "text",
        "status": ("active", "resolved"),
    },
    "lab": {
        "analyte": ANALYTES,
        "name": "text",
        "recorded": "yes/no",
        "value": "number",
        "result": "text",
        "interpretation": ("positive", "negative"),
        "unit": "text",
        "date": "text",
        "days_ago": "number",
        "times_upper_limit": "number",
        "upper_limit": "number",
    },
    "problem": {
        "kind": PROBLEMS,
        "subject": "text",
        "reason": "text",
    },
}


@dataclass(frozen=True, slots=True)
class Patient:
    age_years: int | None
    sex: str = "unknown"
    pregnancy: str = "unknown"
    pregnancy_evidence: str = "not documented"
    lactation: str = "unknown"
    lactation_evidence: str = "not documented"

    def fact(self) -> dict[str, Any]:
        return _fact("patient", {
            "age_years": self.age_years,
            "sex": self.sex,
            "pregnancy": self.pregnancy,
            "pregnancy_evidence": self.pregnancy_evidence,
            "lactation": self.lactation,
            "lactation_evidence": self.lactation_evidence,
        })


@dataclass(frozen=True, slots=True)
class Ingredient:
    """One ingredient of a medication, with what it contributes to the rules."""

    name: str
    classes: tuple[str, ...]
    opioid_use: str | None = None
    daily_dose_mg: float | None = None
    inactive_reason: str | None = None  # present but not acting (sequestered, abuse deterrent)


@dataclass(frozen=True, slots=True)
class Medication:
    """A medication the patient takes or took, or the order being written."""

    source: str  # where it came from in the input, e.g. "medications[2]" or "order"
    name: str  # as written or displayed
    ingredients: tuple[Ingredient, ...]
    product: str | None = None
    status: str = "active"
    dose_band: str | None = None
    purpose: str | None = None
    dose_matches_purpose: bool | None = None  # None when there is no stated purpose or no band
    route: str = "systemic"
    under_review: bool = False  # an order that is a current prescription being reviewed, not a new one
    time_of_day: str | None = None
    as_needed: bool = False
    doses_per_day: float | None = None  # administrations a day, as the sig says (a taper keeps them)
    started: date | None = None
    stopped: date | None = None

    def taken(self, source: str, status: str, started: date | None, stopped: date | None,
              under_review: bool) -> Medication:
        """This reading as one patient takes it (dataclasses.replace, spelt out: it runs for every
        medication of every patient, and replace() is several times slower)."""
        return Medication(source, self.name, self.ingredients, self.product, status, self.dose_band, self.purpose,
                          self.dose_matches_purpose, self.route, under_review, self.time_of_day, self.as_needed,
                          self.doses_per_day, started, stopped)

    @property
    def classes(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for ingredient in self.ingredients:
            if ingredient.inactive_reason is None:
                seen.update(dict.fromkeys(ingredient.classes))
        return tuple(seen)

    def facts(self, kind: str, today: date) -> list[dict[str, Any]]:
        """One fact per (active ingredient, class): rules match on a single `class` value."""
        common = {
            "name": self.name,
            "product": self.product,
            "status": self.status,
            "route": self.route,
            "purpose": self.purpose,
            "time_of_day": self.time_of_day,
            "days_since_started": (today - self.started).days if self.started else None,
            "days_since_stopped": (today - self.stopped).days if self.stopped else None,
        }
        facts = []
        for ingredient in self.ingredients:
            if ingredient.inactive_reason is not None:
                continue
            for drug_class in ingredient.classes:
                band = self.dose_band if drug_class == "naltrexone" else None
                facts.append(_fact(kind, {
                    **common,
                    "ingredient": ingredient.name,
                    "class": drug_class,
                    "opioid_use": ingredient.opioid_use if drug_class == "opioid-agonist" else None,
                    "daily_dose_mg": ingredient.daily_dose_mg,
                    "doses_per_day": self.doses_per_day if ingredient.daily_dose_mg is not None else None,
                    "dose": self.dose_in_words(ingredient),
                    "dose_band": band,
                    "dose_matches_purpose": self.dose_matches_purpose if drug_class == "naltrexone" else None,
                    "under_review": self.under_review if kind == "order" else None,
                }))
        return facts

    @property
    def dose(self) -> str | None:
        """Every active ingredient's daily dose: 'oxycodone up to 20 mg a day as needed; ...'."""
        doses = [f"{i.name} {self.dose_in_words(i)}" for i in self.ingredients
                 if i.daily_dose_mg is not None and not i.inactive_reason]
        return "; ".join(doses) or None

    def dose_in_words(self, ingredient: Ingredient) -> str | None:
        """'4.5 mg a day at bedtime', 'up to 20 mg a day as needed'; None when not known."""
        if ingredient.daily_dose_mg is None:
            return "dose not worked out"
        words = f"{format_number(ingredient.daily_dose_mg)} mg a day"
        if self.as_needed:
            words = f"up to {words} as needed"
        if self.time_of_day:
            words += " at bedtime" if self.time_of_day == "bedtime" else f" in the {self.time_of_day}"
        return words



@dataclass(frozen=True, slots=True)
class Condition:
    concept: str
    name: str
    code: str | None
    status: str = "active"

    def fact(self) -> dict[str, Any]:
        return _fact("condition", {"concept": self.concept, "name": self.name, "code": self.code,
                                   "status": self.status})


@dataclass(frozen=True, slots=True)
class Lab:
    analyte: str
    name: str
    value: float | None = None
    result: str | None = None  # a qualitative result ("positive") or the value in words
    unit: str | None = None
    taken: datetime | None = None
    upper_limit: float | None = None
    interpretation: str | None = None  # "positive" or "negative", for qualitative results

    def fact(self, now: datetime) -> dict[str, Any]:
        times_uln = None
        if self.value is not None and self.upper_limit:
            times_uln = round(self.value / self.upper_limit, 2)
        return _fact("lab", {
            "analyte": self.analyte,
            "name": self.name,
            "recorded": True,
            "value": self.value,
            "result": self.result,
            "interpretation": self.interpretation,
            "unit": self.unit,
            "date": self.taken.date().isoformat() if self.taken else None,
            "days_ago": (now - self.taken).days if self.taken else None,
            "upper_limit": self.upper_limit,
            "times_upper_limit": times_uln,
        })


@dataclass(frozen=True, slots=True)
class Problem:
    """Something in the input that could not be understood; rules turn it into a data-quality alert."""

    kind: str
    subject: str
    reason: str

    def fact(self) -> dict[str, Any]:
        return _fact("problem", {"kind": self.kind, "subject": self.subject, "reason": self.reason})


@dataclass(slots=True)
class PatientRecord:
    """Everything known about one patient at one evaluation time."""

    evaluation_time: datetime
    patient: Patient
    order: Medication | None = None
    medications: list[Medication] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    labs: list[Lab] = field(default_factory=list)
    missing_labs: list[tuple[str, str]] = field(default_factory=list)  # (analyte, name)
    problems: list[Problem] = field(default_factory=list)
    unused: list[str] = field(default_factory=list)  # input entries no rule uses, said so

    def facts(self) -> list[dict[str, Any]]:
        today = self.evaluation_time.date()
        facts = [self.patient.fact()]
        if self.order is not None:
            facts += self.order.facts("order", today)
        for medication in self.medications:
            facts += medication.facts("medication", today)
        facts += [condition.fact() for condition in self.conditions]
        facts += [lab.fact(self.evaluation_time) for lab in self.labs]
        facts += [_fact("lab", {"analyte": analyte, "name": name, "recorded": False})
                  for analyte, name in self.missing_labs]
        facts += [problem.fact() for problem in self.problems]
        return facts


def _fact(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    # Absent values are left out so that rules can test "is missing" ($nex).
    return {"fact": kind, **{key: value for key, value in fields.items() if value is not None}}


@functools.lru_cache(maxsize=8192, typed=True)  # typed: True is "yes", 1 is "1"; values repeat a lot
def format_number(value: float | int | None) -> str:
    """Numbers as people write them: 4.5, 0.002, 135 (no trailing zeros, no float noise)."""
    if value is None:
        return "not recorded"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if abs(value) >= 1000:
        return f"{value:.0f}"
    return format(Decimal(f"{value:.4g}"), "f")  # 4 significant digits, never "1e-05"
