"""Reading a written dose ("5/325 1-2 tabs q4-6h prn", "1 mcg bid", "1 mg/mL 4.5 mL qhs").

`read_sig` turns the words after a drug name into a `Sig`; `Sig.daily_mg` multiplies it out.
Nothing is guessed: a number with no unit, an unknown unit, a volume with no concentration or a
dose with no frequency makes `Sig.problem` say why, and no daily dose is given.
All unit and frequency words come from `rules/terminology/dosing.yaml`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

NUMBER_PATTERN = r"\d+(?:\.\d+)?|\.\d+"
_SPACE_UNITS = re.compile(rf"({NUMBER_PATTERN})(?=[a-zµμ])")
_MICRO = re.compile(r"[µμ]g|(?<![a-z])ug(?![a-z])")
_UNIT_SLASH = re.compile(r"(?<=[a-z])/(?=\d)")  # "5mg/325mg": a slash between two strengths


@dataclass(frozen=True, slots=True)
class Sig:
    strengths: tuple[float, ...] = ()  # per unit (tablet, mL, hour) in `strength_unit`
    strength_unit: str | None = None  # "mg", "mg/mL" or "mg/h" after conversion
    quantity: float | None = None  # units per administration (tablets, or mL when `volume`)
    volume: bool = False
    per_day: float | None = None
    as_needed: bool = False
    time_of_day: str | None = None
    problem: str | None = None
    words: list[str] = field(default_factory=list)

    def daily_mg(self, default_strengths: Sequence[float | None] = ()) -> list[float | None] | None:
        """Daily mg for each strength position, or None when the sig does not say enough (or a
        product of huge numbers overflows: no dose is better than an infinite one)."""
        doses = self._daily_mg(default_strengths)
        if doses is not None and any(d is not None and not math.isfinite(d) for d in doses):
            return None
        return doses

    def _daily_mg(self, default_strengths: Sequence[float | None]) -> list[float | None] | None:
        strengths = list(self.strengths) or list(default_strengths)
        if self.problem or not strengths or all(s is None for s in strengths):
            return None
        if self.strength_unit == "mg/h":  # patches: worn around the clock, however often changed
            patches = 1.0 if self.quantity is None else self.quantity
            return [s * 24 * patches if s is not None else None for s in strengths]
        if self.per_day is None:
            return None
        if self.strength_unit == "mg/mL":
            if not self.volume or self.quantity is None:
                return None
            return [s * self.quantity * self.per_day if s is not None else None for s in strengths]
        if self.volume:
            return None
        quantity = 1.0 if self.quantity is None else self.quantity
        return [s * quantity * self.per_day if s is not None else None for s in strengths]


class SigReader:
    """Reads sigs with the vocabulary of `dosing.yaml`; build once, reuse."""

    def __init__(self, vocabulary: Mapping[str, Any]) -> None:
        self.mass = {k.lower(): float(v) for k, v in vocabulary["mass units"].items()}
        self.volume = {k.lower(): float(v) for k, v in vocabulary["volume units"].items()}
        self.rate = {k.lower(): float(v) for k, v in vocabulary["rate units"].items()}
        self.count = {w.lower() for w in vocabulary["count units"]}
        self.count_words = {k.lower(): float(v) for k, v in vocabulary["count words"].items()}
        self.route = {w.lower() for w in vocabulary["route words"]}
        self.frequencies = {k.lower(): float(v) for k, v in vocabulary["frequencies"].items()}
        self.as_needed = [w.lower() for w in vocabulary["as needed"]]
        self.time_of_day = {word.lower(): when for when, words in vocabulary["time of day"].items() for word in words}
        self.time_units = {k.lower(): float(v) for k, v in vocabulary["time units"].items()}
        words = sorted(set(self.frequencies) | set(self.as_needed) | set(self.time_of_day), key=len, reverse=True)
        self._phrases = re.compile(r"(?<![\w.])(" + "|".join(re.escape(w) for w in words) + r")(?![\w])")
        units = _alternatives(self.time_units)
        counted = _alternatives(w for w in self.count_words if w.isalpha())
        # "q6h", "every 3 days", "every 4 weeks": an interval in any time unit.
        self._every = re.compile(rf"\b(?:every|q)\s*({NUMBER_PATTERN})(?:\s*(?:-|to|or)\s*({NUMBER_PATTERN}))?\s*({units})\b")
        self._times = re.compile(rf"\b({NUMBER_PATTERN}|{counted})\s*(?:x|times)\s*(?:a|per|/)?\s*({units})\b")
        joins = _alternatives(str(w).lower() for w in vocabulary["range words"])
        self._range = re.compile(rf"(?<![\w.])({NUMBER_PATTERN}|{counted})\s+(?:{joins})\s+({NUMBER_PATTERN}|{counted})(?![\w.])")

    def mass_factor(self, unit: str) -> float | None:
        return self.mass.get(normalize_units(unit).strip())

    def read(self, text: str, known_strength: bool = False, ingredients: int = 1) -> Sig:
        """`known_strength`: the product fixes its strength, so a bare number is a count.
        `ingredients`: how many the product has; for a combination, a first "10-325" is its
        strengths (as "10/325" is), not a range of tablets."""
        text = normalize_units(text)
        per_day, as_needed, time_of_day, text = self._frequency(text)
        text = self._range.sub(lambda m: f"{self._amount(m.group(1))}-{self._amount(m.group(2))}", text)
        strengths: list[float] = []
        strength_unit = None
        quantity = None
        volume = False
        problem = None
        tokens = [t for t in re.split(r"[\s,;()]+", text) if t]
        index = 0
        while index < len(tokens):
            token = tokens[index]
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            numbers = _numbers(token)
            if numbers is None and token in self.count_words and (following in self.count or strengths
                                                                   or known_strength):
                numbers = [self.count_words[token]]  # "two tabs", or "Tylenol #3 two q4h"
            if numbers is None:
                index += 1
                continue
            unit = following
            # With a strength known, "1/2" is half a unit and "1-2" at most 2 (the most the sig allows).
            amount = numbers[0] / numbers[1] if "/" in token and len(numbers) == 2 and numbers[1] else max(numbers)
            count = None
            if unit is not None and (factor := self._strength_factor(unit)) is not None:
                if strengths:  # a second strength names the next ingredient ("5 mg / 325 mg")
                    strengths += [n * factor[0] for n in numbers]
                else:
                    strengths, strength_unit = [n * factor[0] for n in numbers], factor[1]
                index += 2
            elif unit is not None and unit in self.time_units:
                index += 2  # a duration ("x 5 days") or a release period ("12 hr"), never a dose
            elif unit is not None and unit in self.volume:
                count, volume = amount * self.volume[unit], True
                index += 2
            elif not strengths and not known_strength and len(numbers) > 1 and (
                    "/" in token or (ingredients > 1 and len(numbers) == ingredients and quantity is None)):
                strengths, strength_unit = numbers, "mg"  # "5/325": combination strengths in mg
                index += 1  # before the count check: "5/325 tab" is one tablet of 5/325, not 325 tablets
            elif unit is not None and unit in self.count:
                count = amount
                index += 2
            elif strengths or known_strength:
                count = amount  # "50 mg 2 po", or "Tylenol #3 1 q4h"
                index += 1
            else:
                reason = "no unit is given" if unit is None or unit in self.route \
                    else f"{unit!r} is not a dose unit"
                problem = problem or f"dose {token}: {reason}"
                index += 1
            if count is not None:
                # A second, different amount ("1 tab ... qty 30") is not silently taken as the dose.
                if quantity is not None and count != quantity:
                    problem = problem or f"more than one amount is given ({_format(quantity)}, " \
                                         f"{_format(count)})"
                quantity = quantity if quantity is not None else count
        if problem is None:
            if (strengths or quantity is not None) and per_day is None and strength_unit != "mg/h":
                problem = "no frequency is given"
            elif volume and strength_unit != "mg/mL":
                problem = "a volume is given without a concentration (mg/mL)"
            elif strength_unit == "mg/mL" and not volume:
                problem = "a concentration (mg/mL) is given without a volume (mL)"
            elif any(value is not None and not (0 < value < math.inf) for value in (*strengths, quantity, per_day)):
                problem = "a dose or frequency is zero or too large to be read"
        return Sig(tuple(strengths), strength_unit, quantity, volume, per_day, as_needed, time_of_day, problem)

    def frequency(self, text: str) -> tuple[float | None, bool, str | None]:
        per_day, as_needed, time_of_day, _ = self._frequency(normalize_units(text))
        return per_day, as_needed, time_of_day

    def _frequency(self, text: str) -> tuple[float | None, bool, str | None, str]:
        per_day = None
        as_needed = False
        time_of_day = None
        found = self._every.search(text)
        if found:
            low = float(found.group(1)) * self.time_units[found.group(3)]
            if low > 0:
                per_day = 24 / low  # "q4-6h": the shortest interval gives the most a day
            text = text[:found.start()] + " " + text[found.end():]
        found = self._times.search(text)
        if found:
            word = found.group(1)
            times = float(self._amount(word))
            per_day = times * 24 / self.time_units[found.group(2)]
            text = text[:found.start()] + " " + text[found.end():]
        remaining = []
        last = 0
        for match in self._phrases.finditer(text):
            phrase = match.group(1)
            if phrase in self.frequencies and per_day is None:
                per_day = self.frequencies[phrase]
            if phrase in self.as_needed:
                as_needed = True
            time_of_day = time_of_day or self.time_of_day.get(phrase)
            remaining.append(text[last:match.start()])
            last = match.end()
        remaining.append(text[last:])
        return per_day, as_needed, time_of_day, " ".join(remaining)

    def _amount(self, word: str) -> str:
        return _format(self.count_words[word]) if word in self.count_words else word

    def _strength_factor(self, unit: str) -> tuple[float, str] | None:
        if unit in self.mass:
            return self.mass[unit], "mg"
        if unit in self.rate:
            return self.rate[unit], "mg/h"
        if "/" in unit:
            mass, _, per = unit.partition("/")
            if mass in self.mass and per in self.volume:
                return self.mass[mass] / self.volume[per], "mg/mL"
            if mass in self.mass and per in self.count:
                return self.mass[mass], "mg"  # per tablet or actuation: an ordinary strength
        return None


def normalize_units(text: str) -> str:
    text = text.lower().replace("½", " half ")
    text = _MICRO.sub("mcg", text)
    text = _SPACE_UNITS.sub(r"\1 ", text)
    return _UNIT_SLASH.sub(" / ", text)


def _format(value: float) -> str:
    return f"{value:.6g}"


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) or "(?!)"


def _numbers(token: str) -> list[float] | None:
    """'5' → [5]; '5/325' → [5, 325]; '1-2' → [1, 2]; anything else → None."""
    parts = re.split(r"[/-]", token)
    if not all(re.fullmatch(NUMBER_PATTERN, part) for part in parts):
        return None
    return [float(part) for part in parts]
