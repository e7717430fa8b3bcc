"""LDN titration plans: start low, step up to the target, adjust for side effects (ldn-facts.md §7).

A pure function, `plan_titration`, over the data in `rules/planning/titration.yaml` (protocols,
formulations, adjustments; each value marked seed / [practice] / [design] there).

Conventions:
- A step runs from `start` to `end`, both inclusive; the next step starts the day after (`end + 1`).
- Doses are computed exactly (fractions), never above the target, and each must be dispensable:
  capsules as a sum of available strengths (fewest capsules; ties: fewer distinct strengths, then larger
  capsules), liquid to 0.1 mL, drops to a whole number of drops. A scheduled dose that cannot be
  dispensed is a `TitrationError`; a halved dose (side effects) that cannot be dispensed is rounded
  DOWN to the largest dispensable dose (said in the step note).
- The final step lasts one interval at the target; the plan notes say to continue at it.
- Adjustments, applied in date order (same day: gi-effects, side-effects, sleep-disturbance):
  side-effects on D → half the scheduled dose from D for 7 days, then the schedule resumes where it
  was, everything after D shifted by 7 days (a new report inside a window restarts the 7 days);
  sleep-disturbance on D → morning dosing from D; gi-effects on D → the dose taken on D − 1 (the
  start dose when D is the first day) is held from D to the end of the plan; later gi-effects
  reports change nothing (side effects after a hold still halve the held dose for 7 days).
- Targets above the usual LDN maximum (4.5 mg) need `allow_above_usual_max=True` and stay below the
  [design] absolute maximum (25 mg); such plans carry a review note.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache
from math import gcd
from pathlib import Path
from typing import Any

import yaml

from cds.model import format_number

DATA_PATH = Path(__file__).resolve().parent.parent.parent / "rules" / "planning" / "titration.yaml"
FORMULATIONS = ("capsule", "liquid", "drops")
TIMES_OF_DAY = ("bedtime", "morning")
ADJUSTMENT_KINDS = ("gi-effects", "side-effects", "sleep-disturbance")  # also the same-day order


class TitrationError(ValueError):
    """A request that cannot be planned; the message says why and what to change."""


@dataclass(frozen=True)
class Adjustment:
    """Something reported on a date: "side-effects", "sleep-disturbance" or "gi-effects"."""

    kind: str
    on: date


@dataclass(frozen=True)
class TitrationRequest:
    """What to plan; `None` means the protocol's (or the formulation's) default from the data."""

    start: date
    target_mg: float = 4.5
    start_mg: float | None = None
    step_mg: float | None = None
    interval_days: int | None = None  # overrides every interval, the first one included
    protocol: str = "seed-001-4-weeks"
    formulation: str = "capsule"  # "capsule" | "liquid" | "drops"
    capsule_strengths: tuple[float, ...] | None = None
    liquid_mg_per_ml: float | None = None  # the liquid's (or the drops' solution's) mg/mL; None: titration.yaml
    drops_per_ml: float | None = None
    time_of_day: str = "bedtime"  # or "morning"
    adjustments: tuple[Adjustment, ...] = ()
    allow_above_usual_max: bool = False  # a target above 4.5 mg must be asked for explicitly


@dataclass(frozen=True)
class TitrationStep:
    """One period at one dose; `start` and `end` are both inclusive."""

    number: int
    start: date
    end: date
    dose_mg: float
    time_of_day: str
    dispense: str
    note: str | None = None


@dataclass(frozen=True)
class TitrationPlan:
    """The steps in date order, the protocol used, source ids (rules/reference/sources.yaml), notes."""

    steps: tuple[TitrationStep, ...]
    protocol: str
    sources: tuple[str, ...]
    notes: tuple[str, ...]


# --- data -------------------------------------------------------------------------------------------


@lru_cache(maxsize=4)
def load_titration_data(path: Path = DATA_PATH) -> dict[str, Any]:
    """The parsed `titration.yaml` (cached; treat as read-only)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not {"protocols", "formulations", "adjustments", "limits"} <= set(data):
        raise TitrationError(f"{path}: needs limits, protocols, formulations and adjustments")
    return data


def protocol_names() -> tuple[str, ...]:
    """The named protocols in the data, in file order."""
    return tuple(load_titration_data()["protocols"])


def _exact(value: float | int, what: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise TitrationError(f"{what} must be a number, not {value!r}")
    if value != value or value in (float("inf"), float("-inf")):
        raise TitrationError(f"{what} must be a finite number")
    return Fraction(str(round(float(value), 6)))


def _mg(value: Fraction) -> str:
    return format_number(float(value))


# --- dispensing -------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _capsule_table(strengths_ug: tuple[int, ...], limit_ug: int) -> tuple[tuple[int, ...] | None, ...]:
    """best[i] = capsules (µg, largest first) summing to i·g µg, g = gcd of strengths; None if impossible."""
    g = 0
    for s in strengths_ug:
        g = gcd(g, s)
    best: list[tuple[int, ...] | None] = [()]
    for i in range(1, limit_ug // g + 1):
        amount, choice, choice_key = i * g, None, None
        for s in strengths_ug:
            if s <= amount and (rest := best[(amount - s) // g]) is not None:
                combo = tuple(sorted((*rest, s), reverse=True))
                key = (len(combo), len(set(combo)), tuple(-c for c in combo))
                if choice_key is None or key < choice_key:
                    choice, choice_key = combo, key
        best.append(choice)
    return tuple(best)


@dataclass(frozen=True)
class _Dispenser:
    formulation: str
    limit: Fraction  # the largest dose the plan can need (the target)
    strengths: tuple[Fraction, ...] = ()
    mg_per_ml: Fraction = Fraction(1)
    quantum: Fraction = Fraction(1, 10)  # liquid: mg per 0.1 mL; drops: mg per drop
    drops_per_ml: Fraction | None = None

    def _capsules(self, dose: Fraction) -> tuple[int, ...] | None:
        ug = dose * 1000
        if ug.denominator != 1 or ug <= 0 or dose > self.limit:
            return None
        table = _capsule_table(tuple(int(s * 1000) for s in self.strengths), int(self.limit * 1000))
        g = 0
        for s in self.strengths:
            g = gcd(g, int(s * 1000))
        return table[int(ug) // g] if int(ug) % g == 0 else None

    def can(self, dose: Fraction) -> bool:
        """Can exactly this dose be dispensed?"""
        if dose <= 0:
            return False
        if self.formulation == "capsule":
            return self._capsules(dose) is not None
        return (dose / self.quantum).denominator == 1

    def floor(self, dose: Fraction) -> Fraction | None:
        """The largest dispensable dose not above `dose`, or None."""
        if self.formulation != "capsule":
            units = dose // self.quantum
            return units * self.quantum if units > 0 else None
        g = 0
        for s in self.strengths:
            g = gcd(g, int(s * 1000))
        ug = (min(dose, self.limit) * 1000) // 1 // g * g
        while ug > 0:
            if self._capsules(Fraction(ug, 1000)) is not None:
                return Fraction(ug, 1000)
            ug -= g
        return None

    def describe(self) -> str:
        if self.formulation == "capsule":
            return "capsules of " + ", ".join(_mg(s) for s in self.strengths) + " mg"
        if self.formulation == "liquid":
            return f"{_mg(self.mg_per_ml)} mg/mL liquid measured to 0.1 mL"
        return f"drops of {_mg(self.mg_per_ml)} mg/mL solution at {_mg(self.drops_per_ml or 0)} drops/mL"

    def text(self, dose: Fraction, when: str) -> str:
        """What to dispense, e.g. "1 × 1.5 mg capsule at bedtime"."""
        if self.formulation == "capsule":
            combo = self._capsules(dose) or ()
            counts: dict[int, int] = {}
            for c in combo:
                counts[c] = counts.get(c, 0) + 1
            parts = [f"{n} × {_mg(Fraction(c, 1000))} mg capsule{'s' if n > 1 else ''}" for c, n in counts.items()]
            return " + ".join(parts) + f" {when}"
        if self.formulation == "liquid":
            return f"{_mg(dose / self.mg_per_ml)} mL of {_mg(self.mg_per_ml)} mg/mL liquid {when}"
        drops = dose / self.quantum
        return (f"{_mg(drops)} {'drop' if drops == 1 else 'drops'} of {_mg(self.mg_per_ml)} mg/mL solution ({_mg(self.drops_per_ml or 0)} drops/mL) "
                f"under the tongue {when}")


def _dispenser(request: TitrationRequest, data: dict[str, Any], target: Fraction) -> _Dispenser:
    if request.formulation not in FORMULATIONS:
        raise TitrationError(f"unknown formulation {request.formulation!r}: use one of {', '.join(FORMULATIONS)}")
    spec = data["formulations"][request.formulation]
    concentration = request.liquid_mg_per_ml
    if concentration is None:
        concentration = spec.get("mg_per_ml", data["formulations"]["liquid"]["mg_per_ml"])
    mg_per_ml = _exact(concentration, "liquid_mg_per_ml")
    if mg_per_ml <= 0:
        raise TitrationError("liquid_mg_per_ml must be above 0")
    if request.formulation == "capsule":
        raw = request.capsule_strengths if request.capsule_strengths is not None else spec["strengths_mg"]
        strengths = tuple(sorted({_exact(s, "capsule strength") for s in raw}, reverse=True))
        if not strengths or any(s <= 0 for s in strengths):
            raise TitrationError("capsule_strengths must be one or more strengths above 0 mg")
        if any((s * 1000).denominator != 1 for s in strengths):
            raise TitrationError("capsule strengths must be whole micrograms (at most 3 decimals in mg)")
        return _Dispenser("capsule", target, strengths=strengths, mg_per_ml=mg_per_ml)
    if request.formulation == "liquid":
        step_ml = _exact(spec["volume_step_ml"], "volume_step_ml")
        return _Dispenser("liquid", target, mg_per_ml=mg_per_ml, quantum=mg_per_ml * step_ml)
    per_ml = _exact(request.drops_per_ml if request.drops_per_ml is not None else spec["drops_per_ml"], "drops_per_ml")
    if per_ml <= 0:
        raise TitrationError("drops_per_ml must be above 0")
    return _Dispenser("drops", target, mg_per_ml=mg_per_ml, quantum=mg_per_ml / per_ml, drops_per_ml=per_ml)


# --- planning ---------------------------------------------------------------------------------------


@dataclass
class _Day:
    """One calendar day of the plan while adjustments are applied."""

    dose: Fraction
    scheduled: Fraction  # the dose the schedule resumes at after a side-effect window
    time_of_day: str
    group: tuple[Any, ...]  # ("phase", i) | ("window", n) | ("held",): steps never span two groups
    notes: tuple[str, ...] = field(default_factory=tuple)  # events starting on this day


def _schedule(request: TitrationRequest, data: dict[str, Any]) -> tuple[list[Fraction], int, int]:
    """Doses of the base schedule, the first interval and the other intervals (days)."""
    if request.protocol not in data["protocols"]:
        raise TitrationError(f"unknown protocol {request.protocol!r}: use one of {', '.join(data['protocols'])}")
    protocol = data["protocols"][request.protocol]
    limits = data["limits"]
    target = _exact(request.target_mg, "target_mg")
    start = _exact(request.start_mg if request.start_mg is not None else protocol["start_mg"], "start_mg")
    step = _exact(request.step_mg if request.step_mg is not None else protocol["step_mg"], "step_mg")
    if target <= 0:
        raise TitrationError("target_mg must be above 0 mg")
    usual, absolute = _exact(limits["usual_max_mg"], "usual_max_mg"), _exact(limits["absolute_max_mg"], "absolute_max_mg")
    if target > usual and not request.allow_above_usual_max:
        raise TitrationError(f"target {_mg(target)} mg is above the usual LDN maximum of {_mg(usual)} mg: "
                             "set allow_above_usual_max to plan it deliberately")
    if target >= absolute:
        raise TitrationError(f"target {_mg(target)} mg is not low-dose naltrexone (must be below {_mg(absolute)} mg)")
    if start <= 0:
        raise TitrationError("start_mg must be above 0 mg")
    if start > target:
        raise TitrationError(f"start dose {_mg(start)} mg is above the target {_mg(target)} mg")
    if step <= 0:
        raise TitrationError("step_mg must be above 0 mg")
    if request.interval_days is not None:
        if isinstance(request.interval_days, bool) or not isinstance(request.interval_days, int) or request.interval_days < 1:
            raise TitrationError("interval_days must be a whole number of days, at least 1")
        first = interval = request.interval_days
    else:
        interval = int(protocol["interval_days"])
        first = int(protocol.get("first_interval_days", interval))
    doses = [start]
    while doses[-1] < target:
        doses.append(min(doses[-1] + step, target))
        if len(doses) > int(limits["max_steps"]):
            raise TitrationError(f"more than {limits['max_steps']} steps from {_mg(start)} to {_mg(target)} mg "
                                 f"by {_mg(step)} mg: use a larger step")
    return doses, first, interval


def _step_notes(head: _Day) -> tuple[str, ...]:
    """The notes of a step starting on `head`: its events, and a reminder when a window goes on."""
    if head.group[0] == "window" and not any(n.startswith("halved") for n in head.notes):
        return (*head.notes, "halved dose continues (side effects)")
    return head.notes


def plan_titration(request: TitrationRequest) -> TitrationPlan:
    """Plan an LDN titration: dated steps, dose, what to dispense, with adjustments applied."""
    data = load_titration_data()
    if not isinstance(request.start, date):
        raise TitrationError("start must be a date")
    if request.time_of_day not in TIMES_OF_DAY:
        raise TitrationError(f"unknown time_of_day {request.time_of_day!r}: use one of {', '.join(TIMES_OF_DAY)}")
    doses, first, interval = _schedule(request, data)
    target = doses[-1]
    dispenser = _dispenser(request, data, target)
    for dose in doses:
        if not dispenser.can(dose):
            raise TitrationError(f"{_mg(dose)} mg cannot be dispensed as {dispenser.describe()}: "
                                 "change the start dose, the step or the formulation")

    days: list[_Day] = []
    for i, dose in enumerate(doses):
        for _ in range(first if i == 0 else interval):
            days.append(_Day(dose, dose, request.time_of_day, ("phase", i)))

    adjust = data["adjustments"]
    labels = {k: v["label"] for k, v in data["time_of_day"].items()}
    sources: list[str] = list(data["protocols"][request.protocol]["sources"])
    sources += data["time_of_day"][request.time_of_day]["sources"]
    sources += data["formulations"][request.formulation]["sources"]
    notes: list[str] = [n["text"] for n in data.get("plan_notes", [])]
    for n in data.get("plan_notes", []):
        sources += n["sources"]

    for adjustment in request.adjustments:
        if not isinstance(adjustment, Adjustment) or adjustment.kind not in ADJUSTMENT_KINDS:
            kind = getattr(adjustment, "kind", adjustment)
            raise TitrationError(f"unknown adjustment {kind!r}: use one of {', '.join(ADJUSTMENT_KINDS)}")
        if not isinstance(adjustment.on, date):
            raise TitrationError(f"{adjustment.kind}: `on` must be a date")
    ordered = sorted(request.adjustments, key=lambda a: (a.on, ADJUSTMENT_KINDS.index(a.kind)))
    windows = 0
    held_at: date | None = None
    for adjustment in ordered:
        k = (adjustment.on - request.start).days
        if k < 0:
            raise TitrationError(f"{adjustment.kind} on {adjustment.on} is before the plan starts ({request.start})")
        if k >= len(days):
            end = request.start + timedelta(days=len(days) - 1)
            raise TitrationError(f"{adjustment.kind} on {adjustment.on} is after the plan ends ({end})")
        spec = adjust[adjustment.kind]
        sources += spec["sources"]
        if adjustment.kind == "side-effects":
            while days[k].group[0] == "window":  # a new report restarts the 7 days
                del days[k]
            base = days[k]
            half = base.scheduled * _exact(spec["factor"], "factor")
            dose = dispenser.floor(half)
            if dose is None:
                raise TitrationError(f"half of {_mg(base.scheduled)} mg ({_mg(half)} mg) cannot be dispensed as "
                                     f"{dispenser.describe()}: consider liquid or drops")
            change = f"{_mg(base.scheduled)} mg → {_mg(dose)} mg"
            if dose != half:
                change += f"; half, {_mg(half)} mg, cannot be dispensed, rounded down"
            note = f"halved for {spec['days']} days for side effects ({change}), then the schedule resumes"
            windows += 1
            window = [_Day(dose, base.scheduled, base.time_of_day, ("window", windows)) for _ in range(int(spec["days"]))]
            window[0].notes = (*base.notes, note)
            base.notes = ()
            days[k:k] = window
        elif adjustment.kind == "sleep-disturbance":
            if days[k].time_of_day != "morning":
                days[k].notes = (*days[k].notes, spec["note"])
                for day in days[k:]:
                    day.time_of_day = "morning"
        elif not held_at:  # gi-effects; a later report changes nothing: titration has already stopped
            held = days[k - 1].dose if k > 0 else days[0].dose
            held_at = adjustment.on
            note = spec["note"]
            if request.formulation != "drops":
                note += f"; {spec['drops_hint']}"
            for i in range(k, len(days)):
                days[i] = replace(days[i], dose=held, scheduled=held, group=("held",))
            days[k].notes = (*days[k].notes, note)
            notes.append(f"Titration stopped at {_mg(held)} mg because of GI effects on {adjustment.on}; "
                         f"{_mg(target)} mg is not reached (seed:001). "
                         + ("Sublingual drops avoid the gut (seed:004)." if request.formulation != "drops" else ""))

    steps: list[TitrationStep] = []
    run_start = 0
    for i in range(1, len(days) + 1):
        if i < len(days):
            a, b = days[i - 1], days[i]
            if not b.notes and (a.dose, a.time_of_day, a.group) == (b.dose, b.time_of_day, b.group):
                continue
        head = days[run_start]
        steps.append(TitrationStep(
            number=len(steps) + 1,
            start=request.start + timedelta(days=run_start),
            end=request.start + timedelta(days=i - 1),
            dose_mg=round(float(head.dose), 6),
            time_of_day=head.time_of_day,
            dispense=dispenser.text(head.dose, labels[head.time_of_day]),
            note="; ".join(_step_notes(head)) or None,
        ))
        run_start = i

    last = steps[-1]
    notes.insert(0, f"Continue {_mg(Fraction(str(last.dose_mg)))} mg {labels[last.time_of_day]} after {last.end}.")
    notes.append(data["formulations"][request.formulation]["note"])
    if target > _exact(data["limits"]["usual_max_mg"], "usual_max_mg"):
        notes.append(f"Target {_mg(target)} mg is above the usual LDN range (0.5–4.5 mg): review the indication "
                     "and response [design].")
        sources += data["limits"]["usual_max_sources"] + ["design"]
    return TitrationPlan(
        steps=tuple(steps),
        protocol=request.protocol,
        sources=tuple(dict.fromkeys(sources)),
        notes=tuple(n.strip() for n in notes),
    )


def preload() -> None:
    """Read the protocols now (at start-up), not on a first request."""
    load_titration_data()
