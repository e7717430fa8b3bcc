"""From a validated request (the JSON API's shape) to the normalized `PatientRecord`.

Adapters that speak other formats (FHIR, bulk NDJSON) map to this same request shape, so every
input meets one normalizer. What cannot be understood becomes a `Problem` (and so a
data-quality alert), never a silent drop and never a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from .dosing import Sig, SigReader
from .model import Condition, Ingredient, Lab, Medication, Patient, PatientRecord, Problem, format_number
from .terminology import ProductPart, Terminology

_STOPPED = {"stopped", "completed", "cancelled", "entered-in-error"}
_RESOLVED = {"resolved", "inactive", "remission", "refuted", "entered-in-error"}
_POSITIVE = {"positive", "pos", "detected", "reactive", "pregnant", "yes", "true"}
_NEGATIVE = {"negative", "neg", "not detected", "non-reactive", "nonreactive", "not pregnant", "no", "false"}


class Normalizer:
    """Builds `PatientRecord`s with one terminology; build once at start-up."""

    def __init__(self, terminology: Terminology) -> None:
        self.terminology = terminology
        self.sigs = SigReader(terminology.dosing)

    def record(self, request: Mapping[str, Any], now: datetime | None = None) -> PatientRecord:
        evaluation_time = request.get("evaluationTime") or now or datetime.now(timezone.utc)
        if evaluation_time.tzinfo is None:
            evaluation_time = evaluation_time.replace(tzinfo=timezone.utc)
        today = evaluation_time.date()
        record = PatientRecord(evaluation_time, Patient(None))
        if request.get("order"):
            record.order = self.medication(request["order"], "order", today, record.problems, is_order=True)
        for index, entry in enumerate(request.get("medications") or ()):
            medication = self.medication(entry, f"medications[{index}]", today, record.problems)
            if medication is not None:
                record.medications.append(medication)
        for index, entry in enumerate(request.get("conditions") or ()):
            condition = self.condition(entry)
            if condition is None:
                record.unused.append(f"conditions[{index}] {_label(entry)}: not a condition any rule uses")
            else:
                record.conditions.append(condition)
        self._labs(request.get("labs") or (), record)
        record.patient = self.patient(request.get("patient") or {}, record, today)
        return record

    # ---- patient ---------------------------------------------------------------------------
    def patient(self, data: Mapping[str, Any], record: PatientRecord, today: date) -> Patient:
        age = data.get("age")
        if age is None and data.get("birthDate"):
            born: date = data["birthDate"]
            age = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
        pregnancy, pregnancy_evidence = self._pregnancy(data.get("pregnancy") or {}, record)
        lactation, lactation_evidence = _status(data.get("lactation") or {}, "lactating", "not-lactating")
        if lactation == "unknown":
            found = next((c for c in record.conditions if c.concept == "lactation" and c.status == "active"), None)
            if found:
                lactation, lactation_evidence = "lactating", f"condition {found.code or found.name}"
        return Patient(age, data.get("sex", "unknown"), pregnancy, pregnancy_evidence, lactation, lactation_evidence)

    def _pregnancy(self, data: Mapping[str, Any], record: PatientRecord) -> tuple[str, str]:
        status, evidence = _status(data, "pregnant", "not-pregnant")
        if status != "unknown":
            return status, evidence
        found = next((c for c in record.conditions if c.concept == "pregnancy" and c.status == "active"), None)
        if found:
            return "pregnant", f"condition {found.code or found.name}"
        valid_days = {a.key: a.valid_for_days for a in self.terminology.analytes.values()}
        for lab in sorted(record.labs, key=lambda lab: lab.taken or datetime.min, reverse=True):
            if lab.analyte not in ("hcg", "pregnancy-status") or lab.result is None:
                continue
            when = f"{lab.name} {lab.result} on {lab.taken.date().isoformat()}" if lab.taken else lab.name
            result = lab.result.lower()
            if result in _POSITIVE:
                return "pregnant", when
            age_days = (record.evaluation_time - lab.taken).days if lab.taken else None
            if result in _NEGATIVE and age_days is not None and age_days <= (valid_days[lab.analyte] or 0):
                return "not-pregnant", when
        return "unknown", "not documented"

    # ---- medications -----------------------------------------------------------------------
    def medication(self, data: Mapping[str, Any], source: str, today: date, problems: list[Problem],
                   is_order: bool = False) -> Medication | None:
        terminology = self.terminology
        text = (data.get("text") or "").strip()
        written = text or data.get("code", "")
        parts: list[ProductPart] = []
        product = None
        extra: tuple[str, ...] = ()
        sig_text = text
        if data.get("code"):
            coded = terminology.drug_for_code(data.get("system"), data["code"])
            if coded is not None:
                written = text or coded.display
                extra = coded.extra_classes
                if coded.product:
                    product, parts = coded.product, list(coded.product.parts)
                elif coded.ingredient:
                    parts = [ProductPart(coded.ingredient)]
                if not text:
                    sig_text = coded.display
        purpose = data.get("purpose")
        if not parts and sig_text:
            lowered = sig_text.lower()
            hits = terminology.find_names(lowered)
            product_hit = next((hit for hit in hits if hit.product), None)
            if product_hit:
                product, parts = product_hit.product, list(product_hit.product.parts)
            else:
                seen: dict[str, ProductPart] = {}
                for hit in hits:
                    seen.setdefault(hit.ingredient.name, ProductPart(hit.ingredient))
                parts = list(seen.values())
            if purpose is None:
                purpose = next((terminology.purpose_words[lowered[h.start:h.end]] for h in hits
                                if lowered[h.start:h.end] in terminology.purpose_words), None)
            sig_text = _without(lowered, [(hit.start, hit.end) for hit in hits])
        elif parts and sig_text:
            lowered = sig_text.lower()
            sig_text = _without(lowered, [(h.start, h.end) for h in terminology.find_names(lowered)])
        if not parts and not extra:
            problems.append(Problem("unrecognised-medication", f"{source} {written!r}",
                                    "not a medication LDN CDS knows; check the name or give an RxNorm code"))
            return None

        sig = self._sig(data, sig_text, parts)
        defaults = [part.strength_mg for part in parts]
        daily = sig.daily_mg(defaults)
        is_naltrexone = any("naltrexone" in p.ingredient.classes and not p.inactive_reason for p in parts)
        has_dose = bool(sig.strengths or sig.quantity is not None or data.get("dose") or sig.problem)
        if daily is None and (is_naltrexone or has_dose):
            reason = sig.problem or ("no dose is given" if not has_dose else "the dose cannot be worked out")
            kind = "unresolved-naltrexone-dose" if is_naltrexone else "unresolved-dose"
            problems.append(Problem(kind, f"{source} {written!r}", reason))

        ingredients = []
        for index, part in enumerate(parts):
            use = (product.opioid_use if product and product.opioid_use else None) or part.ingredient.opioid_use
            dose = daily[index] if daily is not None and index < len(daily) else None
            ingredients.append(Ingredient(part.ingredient.name, part.ingredient.classes, use,
                                          round(dose, 6) if dose is not None else None, part.inactive_reason))
        if extra:
            ingredients.append(Ingredient(written.lower(), extra))
        naltrexone_mg = next((i.daily_dose_mg for i in ingredients
                              if "naltrexone" in i.classes and not i.inactive_reason), None)
        band = None
        if is_naltrexone:
            band = product.dose_band if product and product.dose_band else (
                terminology.naltrexone_band(naltrexone_mg) if naltrexone_mg is not None else None)
        status = data.get("status", "active")
        stopped = data.get("end")
        if status in _STOPPED or (stopped is not None and stopped <= today):
            status = "stopped"
        return Medication(
            source=source, name=written, ingredients=tuple(ingredients),
            product=product.name if product else None, status=status,
            dose=_dose_words(ingredients, sig), dose_band=band, purpose=purpose if is_order or purpose else None,
            time_of_day=sig.time_of_day, as_needed=sig.as_needed, started=data.get("start"),
            stopped=stopped if status == "stopped" else None,
        )

    def _sig(self, data: Mapping[str, Any], sig_text: str, parts: list[ProductPart]) -> Sig:
        known_strength = any(part.strength_mg for part in parts)
        structured = data.get("dose")
        if not structured:
            text = " ".join(t for t in (sig_text, data.get("frequency") or "") if t)
            return self.sigs.read(text, known_strength)
        # A structured dose: value + unit per administration, the frequency in words.
        per_day, as_needed, time_of_day = self.sigs.frequency(data.get("frequency") or "")
        unit = structured["unit"]
        factor = self.sigs.mass_factor(unit)
        problem = None
        strengths: tuple[float, ...] = ()
        quantity = None
        volume = False
        strength_unit = "mg"
        if factor is not None:
            strengths = (structured["value"] * factor,)
        elif unit.strip().lower() in self.sigs.volume and data.get("concentration"):
            concentration = data["concentration"]
            mass, _, per = concentration["unit"].lower().partition("/")
            mass_factor = self.sigs.mass_factor(mass)
            if mass_factor is None or per.strip() not in self.sigs.volume:
                problem = f"concentration unit {concentration['unit']!r} is not mass per volume"
            else:
                strengths = (concentration["value"] * mass_factor / self.sigs.volume[per.strip()],)
                quantity = structured["value"] * self.sigs.volume[unit.strip().lower()]
                volume, strength_unit = True, "mg/mL"
        elif unit.strip().lower() in self.sigs.volume:
            problem = "a volume is given without a concentration (mg/mL)"
        else:
            problem = f"dose unit {unit!r} is not a unit of mass (mg, mcg, g) or volume (mL)"
        if problem is None and per_day is None:
            problem = "no frequency is given" if not data.get("frequency") else \
                f"frequency {data['frequency']!r} is not understood"
        return Sig(strengths, strength_unit, quantity, volume, per_day, as_needed, time_of_day, problem)

    # ---- conditions and labs ---------------------------------------------------------------
    def condition(self, data: Mapping[str, Any]) -> Condition | None:
        concept = None
        if data.get("code"):
            concept = self.terminology.concept_for_code(data.get("system", "icd10"), data["code"])
        if concept is None and data.get("text"):
            concept = self.terminology.concept_for_text(data["text"])
        if concept is None:
            return None
        status = "resolved" if data.get("status", "active") in _RESOLVED else "active"
        name = data.get("text") or self.terminology.concepts[concept].label
        return Condition(concept, name, data.get("code"), status)

    def _labs(self, entries: Any, record: PatientRecord) -> None:
        latest: dict[str, Lab] = {}
        for index, data in enumerate(entries):
            analyte = self.terminology.analyte_for_loinc(data["code"])
            if analyte is None:
                record.unused.append(f"labs[{index}] LOINC {data['code']}: not a result any rule uses")
                continue
            taken = data["date"]
            if taken.tzinfo is None:
                taken = taken.replace(tzinfo=timezone.utc)
            value = data.get("value")
            result = data.get("result")
            if analyte.qualitative:
                lab = Lab(analyte.key, analyte.label, None, result or (str(value) if value is not None else None),
                          None, taken)
            else:
                if value is None:
                    record.problems.append(Problem("unrecognised-lab-unit", f"labs[{index}] {analyte.label}",
                                                   "no numeric value is given"))
                    continue
                unit = (data.get("unit") or "").strip()
                if unit.lower() in analyte.accepts or unit.lower() == (analyte.unit or "").lower():
                    converted = value
                elif unit.lower() in analyte.convert:
                    converted = round(value * analyte.convert[unit.lower()], 4)
                else:
                    record.problems.append(Problem(
                        "unrecognised-lab-unit", f"labs[{index}] {analyte.label} {value} {unit or '(no unit)'}",
                        f"unit {unit or '(none)'!r} is not one LDN CDS can compare; expected {analyte.unit}"))
                    continue
                upper = data.get("referenceHigh") or analyte.upper_limit
                lab = Lab(analyte.key, analyte.label, converted, f"{format_number(converted)} {analyte.unit}",
                          analyte.unit, taken, upper)
            current = latest.get(analyte.key)
            if current is None or (lab.taken and current.taken and lab.taken > current.taken):
                latest[analyte.key] = lab
        record.labs = list(latest.values())
        record.missing_labs = [(a.key, a.label) for a in self.terminology.analytes.values()
                               if not a.qualitative and a.key not in latest]


def _status(data: Mapping[str, Any], yes: str, no: str) -> tuple[str, str]:
    status = data.get("status", "unknown")
    if status == "unknown":
        return "unknown", "not documented"
    evidence = data.get("evidence") or f"recorded as {status}"
    return (yes if status == yes else no), evidence


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return text


def _dose_words(ingredients: list[Ingredient], sig: Sig) -> str | None:
    doses = [f"{i.name} {format_number(i.daily_dose_mg)} mg a day" for i in ingredients
             if i.daily_dose_mg is not None and not i.inactive_reason]
    if not doses:
        return None
    words = "; ".join(doses)
    if sig.as_needed:
        words += " at most (as needed)"
    if sig.time_of_day:
        words += f", taken at {sig.time_of_day}" if sig.time_of_day == "bedtime" else f", taken in the {sig.time_of_day}"
    return words


def _label(entry: Mapping[str, Any]) -> str:
    return " ".join(str(entry[k]) for k in ("system", "code", "text") if entry.get(k))
