"""Reading one medication entry: which drug (RxNorm code or the words a pharmacist types), its
ingredients and classes, its daily dose in mg, and what could not be read (as problems).

A line is read once per distinct wording (drug lines repeat across patients); its status and
dates, which differ per patient, are applied on every call.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

from .dosing import NUMBER_PATTERN, Sig, SigReader
from .model import Ingredient, Medication, Problem, format_number
from .terminology import NameHit, ProductDef, ProductPart, Terminology

# The statuses schemas.py lets an input hold that mean "no longer taken".
_STOPPED = {"stopped", "completed"}
# The strength after an ingredient's name in an RxNorm name: salt words, then "5 MG", "0.075 MG/HR".
_DISPLAY_STRENGTH = re.compile(rf"[^/\[\d]*?({NUMBER_PATTERN})\s*([a-zµμ]+(?:/[a-zµμ]+)?)")
# The fields of an entry that decide what it means (its status and dates do not).
_READING_FIELDS = ("text", "code", "system", "dose", "concentration", "frequency", "purpose")


class MedicationReader:
    """Reads medication entries with one terminology; build once at start-up."""

    def __init__(self, terminology: Terminology, cache_size: int = 16_384) -> None:
        self.terminology = terminology
        self.sigs = SigReader(terminology.dosing)
        self._read_cached = functools.lru_cache(maxsize=cache_size)(self._read)

    def read(self, data: Mapping[str, Any], source: str, today: date, problems: list[Problem],
             is_order: bool = False) -> Medication | None:
        """One medication line, read once per distinct wording (drug lines repeat across patients);
        its status and dates, which differ per patient, are applied on every call."""
        reading, found = self._read_cached(_reading_key(data, is_order))
        problems += [Problem(kind, f"{source} {reading.name!r}", reason) for kind, reason in found]
        if not reading.ingredients:
            return None
        status = data.get("status", "active")
        end = data.get("end")
        if end is not None and end > today:
            # Still being taken until its end date, whatever the status says.
            if status in _STOPPED:
                problems.append(Problem("conflicting-record", f"{source} {reading.name!r}",
                                        f"the status is {status!r} but the end date, {end.isoformat()}, is after "
                                        f"the evaluation date; it is taken as still active"))
                status = "active"
            end = None
        elif status in _STOPPED or end is not None:
            status = "stopped"
        return reading.taken(source, status, data.get("start"), end if status == "stopped" else None,
                             bool(data.get("review")))

    def _read(self, key: tuple[tuple[str, Any], ...]) -> tuple[Medication, tuple[tuple[str, str], ...]]:
        """What a medication line means, whoever takes it: (medication, problems as (kind, reason))."""
        data = {name: dict(value) if name in ("dose", "concentration") else value for name, value in key}
        is_order = data.pop("is_order")
        problems: list[tuple[str, str]] = []
        terminology = self.terminology
        text = (data.get("text") or "").strip()
        written = text or data.get("code", "")
        parts: list[ProductPart] = []
        product = None
        extra: tuple[str, ...] = ()
        lowered = text.lower()
        sig_text = lowered
        display_sig = ""
        coded = None
        if data.get("code"):
            coded = terminology.drug_for_code(data.get("system"), data["code"])
            if coded is not None:
                written = text or coded.display
                extra = coded.extra_classes
                if coded.product:
                    product, parts = coded.product, list(coded.product.parts)
                elif coded.ingredient:
                    parts = [ProductPart(coded.ingredient)]
                else:  # an RxNorm product known by its name: the name says what is in it
                    product, parts, display_sig = self._display_drug(coded.display)
                    sig_text = sig_text or display_sig
        hits = terminology.find_names(lowered)
        text_product, text_parts = _parts(hits)
        conflict = False
        if coded is not None and text_parts:
            # The text names a drug the code does not have (or has only inactive): the record
            # disagrees on what the drug is, so both are checked and neither's dose is trusted.
            coded_as = {(part.ingredient.name, not part.inactive_reason) for part in parts}
            more = [part for part in text_parts if (part.ingredient.name, not part.inactive_reason) not in coded_as]
            if more:
                conflict = True
                problems.append(("conflicting-record", f"code {data['code']} is {_names(parts) or repr(coded.display)}"
                                                       f" but the text names {_names(text_parts)}; both are checked"))
                parts = parts + more
        if not parts:
            product, parts = text_product, text_parts
        purpose = data.get("purpose")
        if purpose is None:  # the prescriber's own word ("ULDN 1 mg bid"), with or without a code
            purpose = next((terminology.purpose_words[lowered[h.start:h.end]] for h in hits
                            if lowered[h.start:h.end] in terminology.purpose_words), None)
        if text:
            sig_text = _without(lowered, [(hit.start, hit.end) for hit in hits])
        if not parts and not extra:
            problems.append(("unrecognised-medication",
                             "not a medication LDN CDS knows; check the name or give an RxNorm code"))
            return Medication(source="", name=written, ingredients=()), tuple(problems)

        sig = self._sig(data, sig_text, parts, written=bool(text))
        if conflict and not sig.problem and (sig.strengths or sig.quantity is not None or data.get("dose")):
            sig = replace(sig, problem="the code and the text name different drugs, so the dose is not "
                                       "given to either")
        if parts and len(sig.strengths) > len(parts) and not sig.problem:
            # "naltrexone 1/2 tab": two strengths for one ingredient is not a dose to pick from.
            sig = replace(sig, problem=f"{len(sig.strengths)} strengths are given for "
                                       f"{len(parts)} ingredient{'s' if len(parts) > 1 else ''}")
        defaults = [part.strength_mg for part in parts]
        daily = sig.daily_mg(defaults)

        ingredients = []
        for index, part in enumerate(parts):
            use = part.ingredient.opioid_use
            if use and product and product.opioid_use:  # the product's use, for its opioids only
                use = product.opioid_use
            dose = daily[index] if daily is not None and index < len(daily) else None
            ingredients.append(Ingredient(part.ingredient.name, part.ingredient.classes, use,
                                          round(dose, 6) if dose is not None else None, part.inactive_reason))
        given = {c for part in parts if not part.inactive_reason for c in part.ingredient.classes}
        extra = tuple(c for c in extra if c not in given)  # a value set's class, unless an ingredient gives it
        if extra:  # named by the code's own name when the text names something else
            ingredients.append(Ingredient((coded.display if conflict and coded else written).lower(), extra))
        naltrexone_mg = next((i.daily_dose_mg for i in ingredients
                              if "naltrexone" in i.classes and not i.inactive_reason), None)
        is_naltrexone = any("naltrexone" in p.ingredient.classes and not p.inactive_reason for p in parts)
        band = None
        if is_naltrexone:
            band = product.dose_band if product and product.dose_band else (
                terminology.naltrexone_band(naltrexone_mg) if naltrexone_mg is not None else "unknown")

        has_dose = bool(sig.strengths or sig.quantity is not None or data.get("dose") or sig.problem)
        if display_sig and not text:  # the strength is the product's own: no dose was written
            has_dose = bool(data.get("dose") or data.get("frequency"))
        # A dose is needed to work out a naltrexone band (unless the product fixes it), and is
        # reported whenever one was written but not understood -- except for emergency-only drugs.
        no_daily_dose = set(terminology.dosing.get("no daily dose") or ())
        active = [p for p in parts if not p.inactive_reason]
        emergency_only = bool(active) and all(
            p.ingredient.classes and set(p.ingredient.classes) <= no_daily_dose for p in active)
        if daily is None and not emergency_only and (has_dose or band == "unknown"):
            reason = sig.problem or ("no dose is given" if not has_dose else "the dose cannot be worked out")
            kind = "unresolved-naltrexone-dose" if is_naltrexone else "unresolved-dose"
            problems.append((kind, reason))

        matches_purpose = None
        if band not in (None, "unknown") and purpose is not None:  # an unknown dose matches nothing, or fails nothing
            matches_purpose = band in terminology.purpose_bands[purpose]
        topical = (product is not None and product.route == "topical") or bool(
            terminology.topical_words.search(lowered or written.lower()))
        medication = Medication(
            source="", name=written, ingredients=tuple(ingredients),
            product=product.name if product else None,
            dose_band=band, purpose=purpose if is_order or purpose else None,
            dose_matches_purpose=matches_purpose, route="topical" if topical else "systemic",
            time_of_day=sig.time_of_day, as_needed=sig.as_needed, doses_per_day=sig.per_day,
        )
        return medication, tuple(problems)

    def _display_drug(self, display: str) -> tuple[ProductDef | None, list[ProductPart], str]:
        """An RxNorm product known by its name only ("acetaminophen 325 MG / oxycodone hydrochloride
        5 MG Oral Tablet [Percocet]"): its product and ingredients, and each ingredient's strength
        as a sig in the order of the parts ("5 mg / 325 mg"). RxNorm lists ingredients
        alphabetically and may start with a release period or pack size ("12 HR", "1 ML") that is
        no dose, so only the strength written after each ingredient's name is read."""
        lowered = display.lower()
        hits = self.terminology.find_names(lowered)
        product, parts = _parts(hits)
        if product is None and len(parts) > 1:  # a generic Embeda or Suboxone names no brand
            product = self.terminology.product_for_ingredients(p.ingredient.name for p in parts)
            parts = list(product.parts) if product else parts
        strengths: dict[str, tuple[float, str]] = {}
        for hit in hits:
            found = _DISPLAY_STRENGTH.match(lowered, hit.end) if hit.ingredient else None
            if found is None:
                continue
            value, unit = float(found.group(1)), found.group(2)
            name = hit.ingredient.name
            if name not in strengths:
                strengths[name] = (value, unit)
            elif strengths[name][1] == unit:  # two salts of one ingredient (oxycodone HCl + terephthalate)
                strengths[name] = (strengths[name][0] + value, unit)
        words = []
        for part in parts:
            if part.ingredient.name not in strengths:
                break
            value, unit = strengths[part.ingredient.name]
            words.append(f"{_plain(value)} {unit}")
        return product, parts, " / ".join(words)

    def _sig(self, data: Mapping[str, Any], sig_text: str, parts: list[ProductPart], written: bool = False) -> Sig:
        """The dose from the sig words and the structured `dose`, `concentration` and `frequency`.
        `written`: `sig_text` is what a person wrote (not a product's name), so an amount or a
        frequency in it that the structured fields contradict is reported, and neither is used."""
        sig = self._sig_as_given(data, sig_text, parts, written)
        if sig.problem or not written:
            return sig
        text_sig = self.sigs.read(sig_text, any(part.strength_mg for part in parts), len(parts))
        frequency = data.get("frequency")
        field_per_day = self.sigs.frequency(frequency)[0] if frequency else None
        if text_sig.per_day is not None and field_per_day is not None and not _same(text_sig.per_day, field_per_day):
            return replace(sig, problem=f"the text gives {format_number(text_sig.per_day)} a day and the "
                                        f"frequency {frequency!r} {format_number(field_per_day)} a day")
        structured = data.get("dose")
        unit = structured["unit"].strip().lower() if structured else ""
        if structured and (self.sigs.mass_factor(unit) is not None
                           or (unit in self.sigs.volume and data.get("concentration"))):
            # Only a structured amount read apart from the text (a count or a bare volume is read
            # with it, where "more than one amount is given" already catches a second one).
            disagreement = self._amount_disagreement(text_sig, sig, data, [part.strength_mg for part in parts],
                                                     sig_text)
            if disagreement:
                return replace(sig, problem=disagreement)
        return sig

    def _sig_as_given(self, data: Mapping[str, Any], sig_text: str, parts: list[ProductPart], written: bool) -> Sig:
        known_strength = any(part.strength_mg for part in parts)
        structured = data.get("dose")
        unit = structured["unit"].strip().lower() if structured else ""
        if not structured or unit in self.sigs.count or (unit in self.sigs.volume and not data.get("concentration")):
            # A count ("1 tab") or a volume needs the strength the product or the text gives: read
            # it together with the text, as if written there.
            amount = f"{_plain(structured['value'])} {unit}" if structured else ""
            text = " ".join(t for t in (sig_text, amount, data.get("frequency") or "") if t)
            return self.sigs.read(text, known_strength, len(parts))
        # A structured dose: value + unit per administration, the frequency in words (in the
        # frequency field, or else in the text: "naltrexone 4.5 mg qhs" with a dose of 4.5 mg).
        frequency = data.get("frequency") or ""
        per_day, as_needed, time_of_day = self.sigs.frequency(frequency if frequency or not written else sig_text)
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
        else:
            problem = f"dose unit {unit!r} is not a unit of mass (mg, mcg, g), volume (mL) or count (tab)"
        if problem is None and per_day is None:
            problem = "no frequency is given" if not data.get("frequency") else \
                f"frequency {data['frequency']!r} is not understood"
        return Sig(strengths, strength_unit, quantity, volume, per_day, as_needed, time_of_day, problem)

    @staticmethod
    def _amount_disagreement(text_sig: Sig, given: Sig, data: Mapping[str, Any],
                             defaults: list[float | None], sig_text: str = "") -> str | None:
        """Why the amount the text states and the structured dose cannot both be right, or None."""
        if text_sig.strength_unit == "mg/h" or not (text_sig.strengths or text_sig.quantity is not None):
            return None  # the text states no amount (or a patch rate, which no mass per dose can match)
        if text_sig.strength_unit == "mg/mL" and given.strength_unit == "mg/mL" and text_sig.strengths \
                and given.strengths and not _same(text_sig.strengths[0], given.strengths[0]):
            concentration = data["concentration"]
            return (f"the text gives {format_number(text_sig.strengths[0])} mg/mL and the structured "
                    f"concentration is {format_number(concentration['value'])} {concentration['unit']}")
        written = _per_dose(text_sig, defaults)
        stated = _per_dose(given, [])
        if written is None or stated is None or written[0] is None or stated[0] is None or _same(written[0], stated[0]):
            return None
        if text_sig.quantity is None and len(written) == 1 and _UNIT_FORM.search(sig_text):
            # "acetaminophen 325 MG Oral Tablet" with a dose of 650 mg: the text names a tablet's
            # strength, not a dose; ½ to 4 of those tablets is that dose (a mg/µg slip is 1000×)
            units = stated[0] / written[0]
            if 0.5 <= units <= _MAX_UNITS_A_DOSE and _same(units * 2, round(units * 2)):
                return None
        dose = data["dose"]
        in_mg = "" if dose["unit"].strip().lower() == "mg" else f" ({format_number(stated[0])} mg)"
        return (f"the text gives {format_number(written[0])} mg a dose and the structured dose is "
                f"{format_number(dose['value'])} {dose['unit']}{in_mg}")


_UNIT_FORM = re.compile(r"\b(?:tablets?|tabs?|capsules?|caps?)\b", re.IGNORECASE)
_MAX_UNITS_A_DOSE = 4


def _reading_key(data: Mapping[str, Any], is_order: bool) -> tuple[tuple[str, Any], ...]:
    """The parts of a medication entry that decide what it means (not its status or dates)."""
    key = [(name, tuple(sorted(value.items())) if isinstance(value, Mapping) else value)
           for name in _READING_FIELDS if (value := data.get(name)) is not None]
    return (*key, ("is_order", is_order))


def _parts(hits: list[NameHit]) -> tuple[ProductDef | None, list[ProductPart]]:
    """A named product, or else each named ingredient once, in the order written."""
    product_hit = next((hit for hit in hits if hit.product), None)
    if product_hit:
        return product_hit.product, list(product_hit.product.parts)
    seen: dict[str, ProductPart] = {}
    for hit in hits:
        seen.setdefault(hit.ingredient.name, ProductPart(hit.ingredient))
    return None, list(seen.values())


def _per_dose(sig: Sig, defaults: list[float | None]) -> list[float | None] | None:
    """The mg in one administration, per ingredient (a sig's daily dose at once a day)."""
    return replace(sig, per_day=1.0, problem=None).daily_mg(defaults)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6)


def _names(parts: list[ProductPart]) -> str:
    return " + ".join(part.ingredient.name + (" (inactive)" if part.inactive_reason else "") for part in parts)


def _plain(value: float) -> str:
    """A number as a sig would write it, never in exponent form ("1e-07" is not read as a number)."""
    return format(Decimal(str(value)).normalize(), "f")


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + " " + text[end:]
    return text