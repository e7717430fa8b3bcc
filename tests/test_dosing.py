"""cds.dosing: written doses into a daily dose in mg, and what cannot be read said, never guessed.

Everything goes through the public `SigReader.read / frequency / mass_factor` and `Sig.daily_mg`,
with the real vocabulary of rules/terminology/dosing.yaml.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cds.dosing import Sig, SigReader
from cds.terminology import Terminology

TERMINOLOGY = Terminology.load()
READER = SigReader(TERMINOLOGY.dosing)
MASS_UNITS = {unit.lower(): float(factor) for unit, factor in TERMINOLOGY.dosing["mass units"].items()}
FREQUENCIES = {word.lower(): float(n) for word, n in TERMINOLOGY.dosing["frequencies"].items()}


def daily(text: str, known_strength: bool = False, defaults: tuple[float | None, ...] = ()) -> list[float] | None:
    return READER.read(text, known_strength).daily_mg(defaults)


# ---- what a sig says ---------------------------------------------------------------------------
@pytest.mark.parametrize(("sig", "expected"), [
    ("4.5 mg qhs", [4.5]),
    ("1.5mg at bedtime", [1.5]),
    ("0.5 mg daily", [0.5]),
    ("1 mcg bid", [0.002]),
    ("1 µg BID", [0.002]),  # micro sign
    ("1 μg BID", [0.002]),  # Greek mu
    ("1 ug twice daily", [0.002]),
    ("1 mg bid", [2.0]),
    ("1 mg/mL 4.5 mL qhs", [4.5]),
    ("1mg/mL 4.5mL qhs", [4.5]),
    ("25 mcg/h patch q72h", [0.6]),
    ("10 mcg/h weekly", [0.24]),
    ("50mg bid", [100.0]),
    ("5 mg 2 tabs every 6 hours", [40.0]),
    ("20 mg q12h", [40.0]),
    ("30mg BID", [60.0]),
    ("80 mg daily", [80.0]),
    ("5/325 1 q6h prn", [20.0, 1300.0]),
    ("10/325 1 tab q4h prn", [60.0, 1950.0]),
    ("5/325 1-2 tabs q4-6h prn", [60.0, 3900.0]),  # as needed: the most the sig allows
    ("8/2 mg SL daily", [8.0, 2.0]),
    ("8/90 2 tabs bid", [32.0, 360.0]),
    ("2.5/0.025 2 tabs qid", [20.0, 0.2]),
    ("5 mg / 325 mg 1 tab q6h", [20.0, 1300.0]),
    ("5mg/325mg 1 tab q6h", [20.0, 1300.0]),
    ("0.5 g daily", [500.0]),
    ("250 milligrams daily", [250.0]),
    ("2 micrograms bid", [0.004]),
    ("0.5 mg three times daily", [1.5]),
    ("0.5 mg 3 times a day", [1.5]),
    ("0.5 mg 3x/day", [1.5]),
    ("0.5 mg two times daily", [1.0]),
    ("380 mg IM every 4 weeks", [380 / 28]),
    ("380 mg once every 4 weeks", [380 / 28]),
    ("4.5 mg once a week", [4.5 / 7]),
    ("4.5 mg 3x/week", [4.5 * 3 / 7]),
    ("4.5 mg every other day", [2.25]),
    ("4.5 mg q3d", [1.5]),
    ("4.5 mg po qhs", [4.5]),
    ("4.5 mg nocte", [4.5]),
    ("4.5mg q.h.s.", [4.5]),
    ("4.5 mg po q.d.", [4.5]),
    ("4 mg/actuat 1 spray daily", [4.0]),
])
def test_daily_dose(sig: str, expected: list[float]) -> None:
    assert daily(sig) == pytest.approx(expected)


@pytest.mark.parametrize(("sig", "known", "expected"), [
    # A product that fixes its strength (Tylenol #3: codeine 30 mg, acetaminophen 300 mg).
    ("1-2 tabs q4-6h prn", True, [360.0, 3600.0]),
    ("1 q4h", True, [180.0, 1800.0]),
    ("two q6h", True, [240.0, 2400.0]),
    ("one or two q4h prn", True, [360.0, 3600.0]),
    ("1/2 tab daily", True, [15.0, 150.0]),
    ("q6h", True, [120.0, 1200.0]),  # one tablet when no count is written
])
def test_daily_dose_from_a_product_strength(sig: str, known: bool, expected: list[float]) -> None:
    assert daily(sig, known, (30.0, 300.0)) == pytest.approx(expected)


def test_a_sig_keeps_when_and_whether_as_needed() -> None:
    sig = READER.read("4.5 mg qhs")
    assert (sig.per_day, sig.time_of_day, sig.as_needed, sig.problem) == (1.0, "bedtime", False, None)
    sig = READER.read("5/325 1 q6h prn")
    assert (sig.per_day, sig.as_needed, sig.strengths, sig.quantity) == (4.0, True, (5.0, 325.0), 1.0)
    assert READER.read("1.5 mg every morning").time_of_day == "morning"
    sig = READER.read("1 mg/mL 4.5 mL qhs")
    assert (sig.strength_unit, sig.volume, sig.quantity) == ("mg/mL", True, 4.5)


@pytest.mark.parametrize(("sig", "reason"), [
    ("4.5 qhs", "dose 4.5: no unit is given"),
    ("4.5 po qhs", "dose 4.5: no unit is given"),
    ("4.5 zz daily", "dose 4.5: 'zz' is not a dose unit"),
    ("4.5 mL qhs", "a volume is given without a concentration (mg/mL)"),
    ("4.5 mg", "no frequency is given"),
    ("1 mg/mL qhs", "a concentration (mg/mL) is given without a volume (mL)"),
    ("0 mg daily", "a dose or frequency is zero or too large to be read"),
    ("4.5 mg 0 times a day", "a dose or frequency is zero or too large to be read"),
    ("5/325 1 tab q6h prn qty 30", "more than one amount is given (1, 30)"),
])
def test_what_cannot_be_read_is_said_and_no_dose_given(sig: str, reason: str) -> None:
    read = READER.read(sig)
    assert read.problem == reason
    assert read.daily_mg() is None


def test_a_patch_rate_is_worn_around_the_clock() -> None:
    # The change interval (q72h) does not divide the rate; two patches double it.
    assert daily("25 mcg/h patch q72h") == pytest.approx([0.6])
    assert daily("25 mcg/h 2 patches q72h") == pytest.approx([1.2])
    assert daily("25 mcg/h") == pytest.approx([0.6])  # no frequency is needed for a rate


def test_a_duration_or_release_period_is_not_a_dose() -> None:
    # Bug: "x 5 days" was read as 5 tablets (tramadol 1000 mg a day) and "12 hr" as a dose.
    assert daily("50 mg q6h prn x 5 days") == pytest.approx([200.0])
    assert daily("12 hr 20 mg q12h") == pytest.approx([40.0])
    assert daily("1.5 mg qhs for 4 weeks") == pytest.approx([1.5])


def test_half_a_tablet_is_a_half() -> None:
    # Bug: "1/2 tab" was read as 2 tablets.
    assert daily("50 mg 1/2 tab daily") == pytest.approx([25.0])
    assert daily("50 mg ½ tab daily") == pytest.approx([25.0])
    assert daily("50 mg half tab daily") == pytest.approx([25.0])


def test_once_does_not_override_a_longer_interval() -> None:
    # Bug: "once a week" and "once every 4 weeks" were read as once a day (7x and 28x too much).
    assert READER.frequency("once a week")[0] == pytest.approx(1 / 7)
    assert READER.frequency("once every 4 weeks")[0] == pytest.approx(1 / 28)
    assert READER.frequency("once")[0] == 1.0


@pytest.mark.parametrize(("words", "per_day", "as_needed", "time_of_day"), [
    ("q4-6h prn", 6.0, True, None),
    ("q6h", 4.0, False, None),
    ("every 6 hours", 4.0, False, None),
    ("q72h", 1 / 3, False, None),
    ("every 3 days", 1 / 3, False, None),
    ("every 4 weeks", 1 / 28, False, None),
    ("weekly", 1 / 7, False, None),
    ("2x/week", 2 / 7, False, None),
    ("BID", 2.0, False, None),
    ("b.i.d.", 2.0, False, None),
    ("twice daily", 2.0, False, None),
    ("three times a day", 3.0, False, None),
    ("qhs", 1.0, False, "bedtime"),
    ("at bedtime", 1.0, False, "bedtime"),
    ("every morning", 1.0, False, "morning"),
    ("as needed", None, True, None),
    # Bug: Latin and dotted abbreviations were "no frequency is given".
    ("nocte", 1.0, False, "bedtime"),
    ("q.d.", 1.0, False, None),
    ("Q.D.", 1.0, False, None),
    ("po q.d.", 1.0, False, None),
    ("p.o. q.d.", 1.0, False, None),
    ("q.h.s.", 1.0, False, "bedtime"),
    ("in the evening", 1.0, False, "bedtime"),
    ("qod", 0.5, False, None),
    ("q.o.d.", 0.5, False, None),
    ("every other day", 0.5, False, None),
    ("mane", 1.0, False, "morning"),
    ("bd", 2.0, False, None),
    ("tds", 3.0, False, None),
    ("qds", 4.0, False, None),
    ("", None, False, None),
    ("whenever", None, False, None),
])
def test_frequency(words: str, per_day: float | None, as_needed: bool, time_of_day: str | None) -> None:
    found = READER.frequency(words)
    assert found[0] == (pytest.approx(per_day) if per_day is not None else None)
    assert found[1:] == (as_needed, time_of_day)


@pytest.mark.parametrize(("unit", "factor"), [
    ("mg", 1.0), ("MG", 1.0), ("mcg", 0.001), ("µg", 0.001), ("μg", 0.001), ("ug", 0.001),
    ("microgram", 0.001), ("g", 1000.0), (" mg ", 1.0), ("mL", None), ("zz", None), ("", None),
])
def test_mass_factor(unit: str, factor: float | None) -> None:
    assert READER.mass_factor(unit) == factor


def test_daily_mg_uses_product_strengths_only_when_the_sig_has_none() -> None:
    sig = Sig(quantity=2.0, per_day=3.0)
    assert sig.daily_mg((30.0, 300.0)) == [180.0, 1800.0]
    assert sig.daily_mg((None,)) is None
    assert sig.daily_mg() is None
    assert Sig(strengths=(5.0,), strength_unit="mg", per_day=2.0).daily_mg((30.0,)) == [10.0]
    assert Sig(strengths=(5.0,), strength_unit="mg", per_day=2.0, problem="x").daily_mg() is None


# ---- properties ----------------------------------------------------------------------------------
_VALUES = st.decimals(min_value=Decimal("0.001"), max_value=Decimal("10000"), places=3).filter(lambda d: d > 0)


@settings(max_examples=300, deadline=None)
@given(value=_VALUES, unit=st.sampled_from(sorted(MASS_UNITS)), frequency=st.sampled_from(sorted(FREQUENCIES)),
       space=st.sampled_from(["", " "]), upper=st.booleans())
def test_daily_mg_is_value_times_factor_times_per_day(value: Decimal, unit: str, frequency: str, space: str,
                                                      upper: bool) -> None:
    amount = format(value.normalize(), "f")
    text = f"{amount}{space}{unit} {frequency}"
    sig = READER.read(text.upper() if upper else text)
    assert sig.problem is None, text
    # dosing.yaml rounds some frequencies (q72h: 0.333333); interval arithmetic gives 1/3.
    assert sig.per_day == pytest.approx(FREQUENCIES[frequency], rel=1e-5)
    assert sig.daily_mg() == pytest.approx([float(value) * MASS_UNITS[unit] * sig.per_day], rel=1e-9)


_WORDS = st.sampled_from(sorted(
    set(MASS_UNITS) | set(FREQUENCIES) | {"mL", "tab", "tabs", "1-2", "5/325", "1/2", "½", "0", "x", "/",
                                          "mcg/h", "mg/mL", "q", "every", "hours", "days", "or", "to", "two",
                                          "prn", "po", "#3", "qty", "-", ".", "1e400", "9" * 400, "µ", "μ"}))
_SIG_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.one_of(_WORDS, st.text(max_size=6), st.decimals(allow_nan=False, allow_infinity=False).map(str)),
             max_size=12).map(" ".join),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_SIG_TEXT, known=st.booleans())
def test_no_text_makes_the_reader_raise(text: str, known: bool) -> None:
    sig = READER.read(text, known)
    doses = sig.daily_mg((30.0, 300.0) if known else ())
    if doses is not None:
        assert sig.problem is None
        assert all(dose is None or dose >= 0 for dose in doses)
    READER.frequency(text)
