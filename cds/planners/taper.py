"""Opioid weaning taper (with optional ULDN): a pure planner over rules/planning/taper.yaml.

MME use the CDC 2022 factors (rules/terminology/mme-factors.json); dispensable doses come from
the RxNorm product table (rules/terminology/opioid-products.csv). `plan_taper` builds a schedule,
`check_taper` says which steps of a clinician's proposed schedule are too fast.
"""

from __future__ import annotations

import csv
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from ..model import format_number
from ..terminology import TERMINOLOGY_DIR, Terminology

PLANNING_DIR = Path(__file__).resolve().parent.parent.parent / "rules" / "planning"
_EPS = 1e-9
_MG_UNITS = {"mg": 1.0, "mcg": 0.001, "µg": 0.001, "ug": 0.001, "microgram": 0.001, "micrograms": 0.001}
_PATCH_UNITS = {"mcg/h", "mcg/hr", "µg/h", "µg/hr", "ug/h", "ug/hr"}
_FREQUENCY = {0.5: "every other day", 1: "once daily", 2: "q12h", 3: "q8h", 4: "q6h", 6: "q4h"}


class TaperError(ValueError):
    """A taper that cannot be planned or checked, with the reason in words."""


@dataclass(frozen=True)
class OpioidDose:
    """One opioid in the current regimen."""

    ingredient: str  # ingredients.yaml key, e.g. "oxycodone"
    dose: float  # per administration
    unit: str  # "mg", "mcg"/"µg"/"ug", or "mcg/h" for fentanyl patches
    per_day: float  # administrations per day (ignored for patches in mcg/h)
    form: str = "tablet"  # tablet | capsule | er tablet | er capsule | liquid | patch
    as_needed: bool = False  # "prn": planned as if every dose were taken (the plan says so)


@dataclass(frozen=True)
class TaperRequest:
    """What to taper and how: overrides may be slower than the rules, never faster."""

    regimen: tuple[OpioidDose, ...]
    start: date
    years_of_use: float
    uldn: bool = False
    rate_percent: float | None = None
    interval_days: int | None = None
    floor_mme: float = 0
    pauses: tuple[int, ...] = ()  # step numbers after which the dose is held one extra interval


@dataclass(frozen=True)
class TaperStep:
    """One step: from `date`, these daily doses (ingredient, daily amount, unit, dispense note)."""

    number: int
    date: date
    doses: tuple[tuple[str, float, str, str], ...]
    total_mme: float
    percent_of_start: float
    uldn: str | None
    note: str = ""


@dataclass(frozen=True)
class MmeFactor:
    """A conversion factor as used: per mg a day, or per µg/h for patches."""

    ingredient: str
    factor: float
    per: str  # "mg/day" or "mcg/h"
    source: str  # "CDC 2022"
    version: str  # mme-factors.json CodeSystem version


@dataclass(frozen=True)
class TaperPlan:
    """The schedule (step 0 is the current regimen), with its factors, rules and follow-up."""

    steps: tuple[TaperStep, ...]
    start_mme: float
    factors: tuple[MmeFactor, ...]
    rules: str
    follow_up: tuple[date, ...]
    notes: tuple[str, ...]


# ---- data --------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _config() -> dict[str, Any]:
    return yaml.safe_load((PLANNING_DIR / "taper.yaml").read_text(encoding="utf-8"))


_shared: dict[str, Terminology] = {}  # the service's terminology, when preload() is given it


def _terminology() -> Terminology:
    if "terminology" not in _shared:
        _shared["terminology"] = Terminology.load()
    return _shared["terminology"]


@lru_cache(maxsize=1)
def _factors() -> tuple[str, dict[str, dict[str, Any]]]:
    """mme-factors.json: (version, rxcui → {"factor": per mg, "forms": {dose form code: per unit/day}})."""
    document = json.loads((TERMINOLOGY_DIR / _config()["mme"]["factors file"]).read_text(encoding="utf-8"))
    table: dict[str, dict[str, Any]] = {}
    for concept in document["concept"]:
        entry: dict[str, Any] = {"factor": None, "forms": {}, "display": concept["display"]}
        for prop in concept.get("property", ()):
            if prop["code"] == "conversion-factor":
                entry["factor"] = float(prop["valueDecimal"])
            elif prop["code"] == "dose-form-conversion-factor":
                form, _, rest = prop["valueString"].partition(":")
                factor, _, per_day = rest.partition("@")
                entry["forms"][form] = float(factor) * (float(per_day) if per_day else 1.0)
        table[concept["code"]] = entry
    return str(document.get("version", "")), table


@lru_cache(maxsize=1)
def _products() -> dict[tuple[str, str], dict[str, tuple[float, ...]]]:
    """opioid-products.csv grouped: (ingredient, dose form) → {"single": strengths, "combination": strengths}.
    Strengths in mg (tablets, capsules), mg/mL (liquids) or µg/h (patches)."""
    grouped: dict[tuple[str, str], dict[str, set[float]]] = {}
    with (TERMINOLOGY_DIR / "opioid-products.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            unit = row["strengthUnit"].strip().upper()
            if unit not in ("MG", "MG/ML", "MG/HR"):  # per actuation (iontophoretic, sprays): not dispensable here
                continue
            value = float(row["strengthValue"])
            if unit == "MG/HR":
                value = round(value * 1000, 4)
            kind = "combination" if " / " in row["drugName"] else "single"
            slot = grouped.setdefault((row["ingredientName"].lower(), row["doseFormName"]), {})
            slot.setdefault(kind, set()).add(value)
    return {key: {kind: tuple(sorted(values)) for kind, values in slot.items()} for key, slot in grouped.items()}


# ---- one drug ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Option:
    """A dispensable daily regimen for one drug."""

    per_admin: float  # mg, or µg/h for patches
    per_day: float
    mme: float
    note: str
    rank: tuple[float, ...] = ()  # the dispensing preference (lower is simpler), see _dispensable


@dataclass(frozen=True)
class _Drug:
    name: str
    label: str  # the name shown: the ingredient, with its form when the regimen lists it twice
    factor: MmeFactor
    unit: str  # "mg" or "mcg/h"
    start: _Option
    options: tuple[_Option, ...]  # ascending MME, first is (0, 0): stopped
    combination: bool


def _drug(dose: OpioidDose, version: str, factors: dict[str, dict[str, Any]], label: str) -> _Drug:
    config = _config()
    name = dose.ingredient.strip().lower()
    if name in config["mme"]["excluded"]:
        raise TaperError(f"{name}: {config['mme']['excluded'][name]}")
    ingredient = _terminology().ingredients.get(name)
    if ingredient is None:
        raise TaperError(f"{dose.ingredient!r} is not an ingredient LDN CDS knows")
    if "opioid-agonist" not in ingredient.classes:
        raise TaperError(f"{name} is not an opioid agonist: there is nothing to taper")
    entry = factors.get(ingredient.rxcui or "")
    if entry is None:
        raise TaperError(f"{name}: no CDC 2022 MME conversion factor; its MME cannot be calculated, "
                         f"so it cannot be tapered here")
    form = config["forms"].get(dose.form.strip().lower())
    if form is None:
        raise TaperError(f"{name}: the form {dose.form!r} is not one the planner can dispense "
                         f"({', '.join(config['forms'])})")
    unit = dose.unit.strip().lower().replace("μ", "µ")
    if form["kind"] == "patch" or unit in _PATCH_UNITS:
        patch_factor = entry["forms"].get(str(config["mme"]["patch dose form"]))
        if form["kind"] != "patch" or unit not in _PATCH_UNITS or patch_factor is None:
            raise TaperError(f"{name}: {format_number(dose.dose)} {dose.unit} as a {dose.form}: only transdermal "
                             f"fentanyl patches in mcg/h have a CDC 2022 factor per µg/h")
        factor = MmeFactor(name, round(patch_factor / 1000, 6), "mcg/h", "CDC 2022", version)
        per_admin, per_day, drug_unit = float(dose.dose), 1.0, "mcg/h"
    else:
        if name == "fentanyl":
            raise TaperError("fentanyl: only transdermal patches (mcg/h) can be tapered here; transmucosal "
                             "fentanyl has no single CDC 2022 factor per mg")
        if unit not in _MG_UNITS:
            raise TaperError(f"{name}: the unit {dose.unit!r} cannot be converted to mg for MME")
        if entry["factor"] is None:
            raise TaperError(f"{name}: no CDC 2022 MME factor per mg")
        factor = MmeFactor(name, entry["factor"], "mg/day", "CDC 2022", version)
        per_admin, per_day, drug_unit = float(dose.dose) * _MG_UNITS[unit], float(dose.per_day), "mg"
    if per_admin <= 0 or per_day <= 0:
        raise TaperError(f"{name}: the dose and the administrations per day must be above zero")

    strengths_by_kind = _products().get((ingredient.name, form["dose form"]), {})
    strengths = strengths_by_kind.get("single") or strengths_by_kind.get("combination") or ()
    combination = not strengths_by_kind.get("single") and bool(strengths)
    if not strengths:
        raise TaperError(f"{name}: no {form['dose form']} product in the RxNorm product table, so no "
                         f"dispensable doses to taper with")
    preferred = _preferred(ingredient.name, form["dose form"], strengths)
    amounts = _dispensable(dose.form.strip().lower(), strengths, preferred)
    options: dict[float, _Option] = {0.0: _Option(0.0, 0.0, 0.0, "stop")}

    def add(amount: float, count: float, note: str, rank: tuple[float, ...], uneven: bool = False) -> None:
        # one option per daily MME: the pharmacist's preferred way to give it (even doses over uneven
        # ones, then _dispensable's rank, then fewer administrations); `amount` is the average per dose
        mme = amount * count * factor.factor
        option = _Option(amount, count, mme, note, (int(uneven), *rank, count))
        key = round(mme, 9)
        if key not in options or option.rank < options[key].rank:
            options[key] = option

    for amount, (rank, note) in amounts.items():
        if form["kind"] == "patch":
            add(amount, per_day, f"{note}, changed every 72 h", rank)
        else:
            add(amount, per_day, f"{note} {_frequency(per_day)}", rank)
    if form["kind"] != "patch" and per_day == int(per_day):
        smallest = min(amounts)
        limit = min(preferred) if form["kind"] == "unit" else smallest
        # low doses: administrations are dropped one at a time at the smallest amount and, for unit
        # forms, at any amount up to one whole unit of the smallest preferred strength
        for amount, (rank, note) in amounts.items():
            if amount <= limit + _EPS:
                for count in range(int(per_day) - 1, 0, -1):
                    add(amount, count, f"{note} {_frequency(count)}", rank)
        # uneven doses: some administrations one smallest unit (or less) lower than the others, so a
        # step can be as small as that unit rather than the unit times the administrations per day;
        # each dose then is whole or half tablets of one common strength, so the day stays simple
        doses = int(per_day) if form["kind"] == "unit" else 0  # liquids already step by 0.5 mL
        ordered = sorted(amounts) if doses > 1 else []
        simple = [amount for amount in ordered if _simple(amounts[amount][0])]
        for high_index, high in enumerate(simple):
            for low in simple[:high_index]:
                if high - low > min(strengths) + _EPS:
                    continue
                (high_rank, high_note), (low_rank, low_note) = amounts[high], amounts[low]
                for higher in range(1, doses):
                    average = (high * higher + low * (doses - higher)) / doses
                    add(average, per_day, f"{high_note} at {higher} and {low_note} at {doses - higher} of the "
                                          f"{_frequency(per_day)} doses", max(high_rank, low_rank), uneven=True)
        # the lowest dose: the smallest amount every other day, then stop (CDC: once the smallest
        # available dose is reached, the interval between doses can be extended)
        rank, note = amounts[smallest]
        add(smallest, 0.5, f"{note} {_frequency(0.5)}", rank)
    start_mme = per_admin * per_day * factor.factor
    start = _Option(per_admin, per_day, start_mme, "current dose")
    return _Drug(name, label, factor, drug_unit, start, tuple(sorted(options.values(), key=lambda o: o.mme)),
                 combination)


def _simple(rank: tuple[float, ...]) -> bool:
    """An amount given as tablets of one common strength (see _dispensable's rank)."""
    _, strengths, _, odd, _ = rank
    return strengths == 1 and odd == 0


def _frequency(per_day: float) -> str:
    return _FREQUENCY.get(per_day, f"{format_number(per_day)} times a day")


def _preferred(ingredient: str, dose_form: str, strengths: tuple[float, ...]) -> tuple[float, ...]:
    """The commonest strengths ([practice] list in taper.yaml), or every strength when none is declared."""
    declared = (_config()["dispensing"]["preferred strengths"].get(ingredient.lower()) or {}).get(dose_form)
    chosen = tuple(sorted(float(s) for s in declared or () if float(s) in strengths))
    return chosen or strengths


@lru_cache(maxsize=64)
def _dispensable(form_name: str, strengths: tuple[float, ...],
                 preferred: tuple[float, ...] | None = None) -> dict[float, tuple[tuple[float, ...], str]]:
    """Every dispensable amount per administration → (rank, dispense note), each amount given the way a
    pharmacist would sign (taper.yaml dispensing): whole units over halves, one strength over two,
    fewer units, the commonest strengths; so never a half tablet when a whole tablet of that amount exists."""
    form, rounding = _config()["forms"][form_name], _config()["rounding"]
    common = set(preferred if preferred else strengths)
    found: dict[float, tuple[tuple[float, ...], str]] = {}

    def keep(amount: float, chosen: tuple[float, ...], half: bool, note: str) -> None:
        odd = sum(1 for strength in chosen if strength not in common)
        units = len(chosen) - (0.5 if half else 0)
        rank = (1 if half else 0, len(set(chosen)), units, odd, -min(chosen))
        key = round(amount, 6)
        if key > 0 and (key not in found or rank < found[key][0]):
            found[key] = (rank, note)

    if form["kind"] == "liquid":
        concentration = min(preferred or strengths)  # the commonest, most dilute concentration
        step = float(rounding["liquid step ml"])
        found_liquid: dict[float, tuple[tuple[float, ...], str]] = {}
        for index in range(1, 401):  # up to 200 mL per administration
            ml = index * step
            found_liquid[round(ml * concentration, 6)] = (
                (0, 1, ml, 0, 0), f"{format_number(ml)} mL of {format_number(concentration)} mg/mL "
                                  f"{form['word']} ({format_number(ml * concentration)} mg)")
        return found_liquid
    most = int(rounding["max patches"] if form["kind"] == "patch" else rounding["max units per administration"])
    unit = "µg/h" if form["kind"] == "patch" else "mg"
    halves = (False, True) if form.get("scored") else (False,)
    for count in range(1, most + 1):
        for chosen in itertools.combinations_with_replacement(strengths, count):
            for half in halves:
                # a half tablet: the smallest strength chosen is taken as one half
                amounts = list(chosen)
                if half:
                    amounts[0] = amounts[0] / 2
                if len(set(chosen)) <= 2:  # at most two strengths per administration
                    keep(sum(amounts), chosen, half, _units_note(chosen, half, unit, form["word"]))
    for strength in strengths if form.get("scored") else ():  # a half tablet on its own
        keep(strength / 2, (strength,), True, f"½ × {format_number(strength)} {unit} {form['word']}")
    return found


def _units_note(chosen: tuple[float, ...], half: bool, unit: str, word: str) -> str:
    counts: dict[float, int] = {}
    for strength in chosen:
        counts[strength] = counts.get(strength, 0) + 1
    parts = []
    for position, (strength, count) in enumerate(sorted(counts.items())):
        if half and position == 0:
            whole = count - 1
            number = f"{whole}½" if whole else "½"
            plural = whole >= 1
        else:
            number, plural = str(count), count > 1
        plural_word = word + ("es" if word.endswith(("ch", "sh", "s")) else "s") if plural else word
        parts.append(f"{number} × {format_number(strength)} {unit} {plural_word}")
    return " + ".join(parts)


# ---- the rule in force -------------------------------------------------------------------------
@dataclass(frozen=True)
class _Rule:
    long_term: bool
    rate: float  # fraction per step (as planned)
    maximum: float  # the most a step of `interval` days may take, as a fraction
    interval: int
    reference: int

    def allowed(self, previous: float, start: float, days: int) -> float:
        """The most MME a step may remove after `days` days at `previous` MME (pro rata)."""
        return self.base(previous, start) * self.maximum_per_reference(previous, start) * days / self.reference

    def maximum_per_reference(self, previous: float, start: float) -> float:
        return self._spec(previous, start)[0]

    def of(self, previous: float, start: float) -> str:
        return self._spec(previous, start)[1]

    def base(self, previous: float, start: float) -> float:
        return start if self.of(previous, start) == "original" else previous

    def _spec(self, previous: float, start: float) -> tuple[float, str]:
        config = _config()["schedule"]
        spec = config["long-term" if self.long_term else "short-term"]
        if not self.long_term and previous <= start * spec["until percent of original"] / 100 + _EPS:
            spec = spec["then"]
        return spec["rate percent"] / 100, spec["of"]

    def target(self, previous: float, start: float) -> float:
        return previous - self.base(previous, start) * self.rate


def _rule(request: TaperRequest) -> _Rule:
    schedule = _config()["schedule"]
    long_term = request.years_of_use >= schedule["long-term"]["applies from years"]
    spec = schedule["long-term" if long_term else "short-term"]
    interval = request.interval_days if request.interval_days is not None else int(spec["interval days"])
    if interval < schedule["minimum interval days"]:
        raise TaperError(f"an interval of {interval} days is shorter than the {schedule['minimum interval days']}"
                         f" days a step must last")
    reference = int(spec["reference days"])
    maximum = spec["rate percent"] / 100 * min(1.0, interval / reference)
    rate = maximum
    if request.rate_percent is not None:
        if request.rate_percent <= 0:
            raise TaperError("the rate must be above 0%")
        if request.rate_percent / 100 > maximum + _EPS:
            use = "≥ 1 year" if long_term else "< 1 year"
            raise TaperError(
                f"{format_number(request.rate_percent)}% every {interval} days is faster than allowed for "
                f"{use} of opioid use: at most {format_number(maximum * 100)}% per step "
                f"({format_number(spec['rate percent'])}% of the {spec['of']} dose per {reference} days, "
                f"CDC 2022 Recommendation 5; seed:004)")
        rate = request.rate_percent / 100
    return _Rule(long_term, rate, maximum, interval, reference)


def _regimen(request: TaperRequest) -> tuple[list[_Drug], str]:
    if not request.regimen:
        raise TaperError("the regimen is empty: name at least one opioid")
    version, factors = _factors()
    names = [dose.ingredient.strip().lower() for dose in request.regimen]
    return [_drug(dose, version, factors,
                  f"{name} {_config()['forms'].get(dose.form.strip().lower(), {}).get('word', dose.form)}"
                  if names.count(name) > 1 else name)
            for dose, name in zip(request.regimen, names)], version


def _stop_threshold(drugs: Sequence[_Drug]) -> float:
    """The largest lowest-dispensable daily dose: a drug at it may be stopped after one interval."""
    return max(_lowest(drug) for drug in drugs)


def _lowest(drug: _Drug) -> float:
    return drug.options[1].mme if len(drug.options) > 1 else 0.0


# ---- planning ----------------------------------------------------------------------------------
def plan_taper(request: TaperRequest, on: date | None = None) -> TaperPlan:
    """The taper schedule for `request` (step 0 is the current regimen on the start date).
    `on` is accepted for callers that plan "as of" a day; the schedule depends only on the request."""
    del on
    config = _config()
    drugs, version = _regimen(request)
    rule = _rule(request)
    tolerance = config["rounding"]["tolerance percent"] / 100
    current = [drug.start for drug in drugs]
    start_mme = sum(option.mme for option in current)
    floor = float(request.floor_mme)
    if floor < 0:
        raise TaperError("the floor cannot be below 0 MME")
    if start_mme <= floor * (1 + tolerance) + _EPS:
        raise TaperError(f"the regimen is {format_number(start_mme)} MME/day, already at or below the floor of "
                         f"{format_number(floor)} MME/day: nothing to taper")
    uldn = config["uldn"]["text"] if request.uldn else None
    steps = [_step(0, request.start, drugs, current, start_mme, uldn, "current dose")]
    day = request.start
    final_stop = _stop_threshold(drugs)
    max_steps = int(config["schedule"]["max steps"])
    while True:
        previous = sum(option.mme for option in current)
        if previous <= floor * (1 + tolerance) + _EPS or previous <= _EPS:
            break
        if len(steps) > max_steps:
            raise TaperError(f"the taper would take more than {max_steps} steps; shorten it with the prescriber")
        target = max(rule.target(previous, start_mme), floor)
        index, choice = _next_move(drugs, current, previous, target, tolerance, rule, start_mme, final_stop)
        drug = drugs[index]
        after = previous - current[index].mme + choice.mme
        intervals = _intervals(rule, previous, after, start_mme, final_stop, tolerance)
        notes = []
        if choice.mme == 0:
            notes.append(f"{drug.label} stopped from its lowest dispensable dose")
        if intervals > 1:
            notes.append(f"held {intervals} intervals: the smallest dispensable step down is more than "
                         f"the rate allows in one")
        note = "; ".join(notes)
        if steps[-1].number in request.pauses:
            intervals += 1
            note = "; ".join(filter(None, [note, f"pause after step {steps[-1].number}"]))
        day = day + timedelta(days=rule.interval * intervals)
        current[index] = choice
        steps.append(_step(len(steps), day, drugs, current, start_mme, uldn, note))
    steps = _marked_large_cuts(steps, float(config["schedule"]["review single step above percent"]))
    follow_up = _follow_up(request.start, steps[-1].date, int(config["schedule"]["follow-up max days"]),
                           [step.date for step in steps[1:]])
    return TaperPlan(tuple(steps), round(start_mme, 4), tuple(drug.factor for drug in drugs),
                     " ".join(config["rounding"]["rule"].split()), follow_up, _notes(request, drugs, rule))


def _marked_large_cuts(steps: list[TaperStep], above_percent: float) -> list[TaperStep]:
    """Steps that cut more than FDA labelling's 25% in one go say so, for the prescriber's review."""
    marked = [steps[0]] if steps else []
    for before, step in zip(steps, steps[1:]):
        cut = (before.total_mme - step.total_mme) / before.total_mme * 100 if before.total_mme else 0.0
        final_stop = step.total_mme <= _EPS and step is steps[-1]
        if cut > above_percent + _EPS and not final_stop:
            warning = (f"a {cut:.0f}% cut in one step, more than the {above_percent:g}% FDA labelling allows: "
                       "review with the prescriber (no smaller dispensable step exists in this form; an oral "
                       "solution, where one exists, allows smaller steps)")
            step = replace(step, note=f"{step.note}; {warning}" if step.note else warning)
        marked.append(step)
    return marked


def _reduction_allowed(rule: _Rule, previous: float, after: float, start: float, days: int, margin: float,
                       final_stop: float) -> bool:
    """The one rule for an allowed reduction, shared by the planner and the checker: from `previous` to
    `after` MME/day in `days` days removes at most the rule's amount pro rata for the days (plus `margin`
    of the previous dose: the rounding tolerance, the same for the planner and the checker), except the
    unavoidable final stop: the last opioid stopped from its lowest dispensable dose (`previous` at most
    the largest lowest dispensable daily dose, to 0) after at least one interval. Stopping an opioid while
    another remains is an ordinary reduction: it must fit within the rate, holding whole intervals."""
    if days < 0:
        return False
    if after <= _EPS and previous <= final_stop + 1e-6 and days >= rule.interval:
        return True
    return previous - after <= rule.allowed(previous, start, days) + margin * previous + 1e-6


def _intervals(rule: _Rule, previous: float, after: float, start: float, final_stop: float,
               tolerance: float) -> int:
    """The fewest whole intervals a step must be held so that it is an allowed reduction."""
    intervals = 1
    while not _reduction_allowed(rule, previous, after, start, rule.interval * intervals, tolerance, final_stop):
        intervals += 1
    return intervals


def _next_move(drugs: Sequence[_Drug], current: Sequence[_Option], previous: float, target: float,
               tolerance: float, rule: _Rule, start: float, final_stop: float) -> tuple[int, _Option]:
    """Which opioid changes next, and to what. The highest MME first (first given on ties); but when that
    opioid is at its lowest dispensable dose and stopping it would exceed the rate in one interval, another
    opioid that can still be reduced is reduced instead (within one interval if any can be, else with
    holds); when every opioid is at its lowest, the one whose stop fits (else the smallest, held whole
    intervals) is stopped, so the last opioid standing is the only stop above the rate."""
    order = sorted((i for i in range(len(drugs)) if current[i].mme > _EPS), key=lambda i: (-current[i].mme, i))

    def fits(after: float) -> bool:
        return _reduction_allowed(rule, previous, after, start, rule.interval, tolerance, final_stop)

    moves = []
    for i in order:
        choice = _choose(drugs[i], current[i], previous - current[i].mme, target, tolerance, fits)
        moves.append((i, choice, fits(previous - current[i].mme + choice.mme), choice.mme == 0))
    first = moves[0]
    if not first[3] or first[2]:
        return first[0], first[1]
    reducible = [move for move in moves[1:] if not move[3]]
    for group in ([m for m in reducible if m[2]], reducible, [m for m in moves if m[2]]):
        if group:
            return group[0][0], group[0][1]
    smallest = min(moves, key=lambda move: (current[move[0]].mme, move[0]))
    return smallest[0], smallest[1]


def _choose(drug: _Drug, now: _Option, others: float, target: float, tolerance: float,
            fits: Callable[[float], bool]) -> _Option:
    """The regimen a pharmacist would sign, strictly lower than now: among those within the tolerance of
    the target that are not faster than the rate in one interval, the simplest (by rank; ties: the larger
    dose); with none, the largest within the budget (rounding down; the step is then held whole intervals
    if it is faster than the rate), or the smallest step down when even that is above the budget. A drug
    above its lowest dispensable dose is never stopped straight away."""
    lower = [option for option in drug.options if option.mme < now.mme - _EPS]
    if now.mme > _lowest(drug) + _EPS:
        lower = [option for option in lower if option.mme > _EPS]
    if not lower:
        return drug.options[0]
    band = [option for option in lower if fits(others + option.mme)
            and target * (1 - tolerance) - _EPS <= others + option.mme <= target * (1 + tolerance) + _EPS]
    if band:
        return min(band, key=lambda option: (option.rank, -option.mme))
    budget = [option for option in lower if others + option.mme <= target * (1 + tolerance) + _EPS]
    return max(budget or lower, key=lambda option: option.mme if budget else -option.mme)


def _step(number: int, day: date, drugs: Sequence[_Drug], current: Sequence[_Option], start: float,
          uldn: str | None, note: str) -> TaperStep:
    doses = tuple((drug.label, round(option.per_admin * option.per_day if drug.unit == "mg" else option.per_admin, 4),
                   "mg/day" if drug.unit == "mg" else "mcg/h", option.note)
                  for drug, option in zip(drugs, current))
    total = sum(option.mme for option in current)
    return TaperStep(number, day, doses, round(total, 4), round(total / start * 100, 2), uldn, note)


def _follow_up(start: date, end: date, most: int, step_days: list[date]) -> tuple[date, ...]:
    """Every step date, filled in so no two follow-ups (from the start) are more than `most` days apart,
    and one `most` days after the last step."""
    days = sorted(set(step_days) | {end + timedelta(days=most)})
    out: list[date] = []
    last = start
    for day in days:
        while (day - last).days > most:
            last = last + timedelta(days=most)
            out.append(last)
        out.append(day)
        last = day
    return tuple(out)


def _notes(request: TaperRequest, drugs: Sequence[_Drug], rule: _Rule) -> tuple[str, ...]:
    config = _config()
    notes = [" ".join(config["notes"]["always"].split())]
    if rule.long_term:
        notes.append(f"≥ 1 year of opioid use: about {format_number(rule.rate * 100)}% of the current dose every "
                     f"{rule.interval} days (CDC 2022 Recommendation 5; seed:004).")
    else:
        notes.append(f"< 1 year of opioid use: about {format_number(rule.rate * 100)}% of the original dose every "
                     f"{rule.interval} days until about 30% remains, then of the remaining dose "
                     f"(CDC 2022 Recommendation 5; seed:004).")
    if len(drugs) > 1:
        notes.append("Several opioids: the total MME is tapered one opioid at a time, the highest MME first. "
                     + " ".join(config["mme"]["notes"]["multiple"].split()))
    for drug in drugs:
        extra = config["mme"]["notes"].get(drug.name)
        if extra:
            notes.append(" ".join(extra.split()))
        if drug.combination:
            notes.append(f"{drug.label}: only combination products exist in this form; check the other "
                         f"ingredient's daily dose at each step.")
    for dose, drug in zip(request.regimen, drugs):
        if dose.as_needed:
            notes.append(f"{drug.label} is taken as needed: the plan counts every dose as taken "
                         f"({_frequency(drug.start.per_day)}); base the taper on the doses actually taken.")
    if request.uldn:
        notes.append(" ".join(config["notes"]["uldn"].split()))
    return tuple(notes)


# ---- checking ----------------------------------------------------------------------------------
def check_taper(request: TaperRequest, proposed: Sequence[tuple[date, float]]) -> list[str]:
    """A message for each proposed (date, total MME/day) step that is an increase or faster than the
    rule in force allows (pro rata for its days, plus the rounding tolerance); [] when all are fine.
    The baseline is the request's regimen on its start date."""
    config = _config()
    drugs, _ = _regimen(request)
    rule = _rule(request)
    tolerance = config["rounding"]["tolerance percent"] / 100
    start_mme = sum(drug.start.mme for drug in drugs)
    stop_from = _stop_threshold(drugs)
    messages = []
    previous_day, previous = request.start, start_mme
    for number, (day, mme) in enumerate(proposed, start=1):
        days = (day - previous_day).days
        label = f"step {number} ({day.isoformat()}, {format_number(mme)} MME/day)"
        if mme < 0:
            messages.append(f"{label}: a dose cannot be below 0 MME/day")
        elif mme > previous + 1e-6:
            messages.append(f"{label}: an increase from {format_number(previous)} MME/day; a taper never increases")
        elif days < 0 or (days == 0 and mme < previous - 1e-6):
            messages.append(f"{label}: not after the previous step ({previous_day.isoformat()})")
        elif mme < previous - 1e-6:
            allowed = rule.allowed(previous, start_mme, days) + tolerance * previous
            if not _reduction_allowed(rule, previous, mme, start_mme, days, tolerance, stop_from):
                per = rule.maximum_per_reference(previous, start_mme) * 100
                of = rule.of(previous, start_mme)
                messages.append(
                    f"{label}: too fast: {format_number(round((previous - mme) / previous * 100, 1))}% less in "
                    f"{days} days; at most {format_number(round(allowed, 2))} MME/day less "
                    f"({format_number(per)}% of the {of} dose per {rule.reference} days)")
        previous_day, previous = day, mme
    return messages


def preload(terminology: Terminology | None = None) -> None:
    """Read the planning data, factors and product strengths now (at start-up), not on a first
    request; given the service's `terminology`, one copy serves both."""
    if terminology is not None:
        _shared["terminology"] = terminology
    _config()
    _terminology()
    _factors()
    _products()
