"""Generic Gherkin steps for the planners (features/planners.feature): opioid taper and LDN titration.

Given steps build a request in the shape of POST /v1/taper or POST /v1/titration
(cds/planners/requests.py); the When step sends it with the Flask test client; Then steps read the
plan as a pharmacist would: starting MME, dates, rates, doses and what to dispense. Nothing is mocked.

Imported by tests/test_features.py with `from plan_steps import *` (pytest-bdd steps are fixtures).
The wording avoids every sentence of tests/bdd_steps.py so that no step text matches twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from pytest_bdd import given, parsers, then, when

DAY = r"\d{4}-\d{2}-\d{2}"
NUMBER = r"\d+(?:\.\d+)?"
EPS = 1e-6
_ADJUSTMENTS = {"side effects": "side-effects", "sleep disturbance": "sleep-disturbance", "GI effects": "gi-effects"}
_TIME_OF_DAY = {"at bedtime": "bedtime", "in the morning": "morning"}


@dataclass
class PlanAnswer:
    """The service's answer: HTTP status and JSON body."""

    status: int
    body: dict[str, Any]

    def plan(self) -> dict[str, Any]:
        assert self.status == 200, f"the planner refused ({self.status}): {self.body.get('errors')}"
        return self.body

    def steps(self) -> list[dict[str, Any]]:
        return self.plan()["steps"]

    def step(self, number: int) -> dict[str, Any]:
        found = [s for s in self.steps() if s["number"] == number]
        assert found, f"there is no step {number}; the steps are {[s['number'] for s in self.steps()]}"
        return found[0]


@pytest.fixture()
def plan_request() -> dict[str, Any]:
    """The planner request the Given steps fill in, and which endpoint it goes to."""
    return {}


def _number(written: str) -> float | int:
    value = float(written)
    return int(value) if value.is_integer() else value


def _table(datatable: list[list[str]]) -> list[dict[str, str]]:
    header = [cell.strip().lower() for cell in datatable[0]]
    return [dict(zip(header, (cell.strip() for cell in row), strict=True)) for row in datatable[1:]]


def _days(earlier: str, later: str) -> int:
    return (date.fromisoformat(later) - date.fromisoformat(earlier)).days


def _opioid(drug: str, dose: str, unit: str, frequency: str, form: str) -> dict[str, Any]:
    return {"drug": drug, "dose": {"value": _number(dose), "unit": unit}, "frequency": frequency, "form": form}


# ---- Given: a taper ------------------------------------------------------------------------

@given(parsers.re(rf"a taper planned from (?P<day>{DAY}) after (?P<years>{NUMBER}) years? of daily opioid use"))
def taper_from(plan_request: dict[str, Any], day: str, years: str) -> None:
    plan_request.update(endpoint="/v1/taper", body={"start": day, "yearsOfUse": _number(years), "regimen": []})


@given(parsers.re(rf"the current opioid is (?P<drug>.+?) (?P<dose>{NUMBER}) (?P<unit>mg|mcg/h) "
                  r"(?P<frequency>.+?) as (?:an? )?(?P<form>tablet|capsule|liquid|patch|film|spray)s?"))
def current_opioid(plan_request: dict[str, Any], drug: str, dose: str, unit: str, frequency: str, form: str) -> None:
    plan_request["body"]["regimen"].append(_opioid(drug, dose, unit, frequency, form))


@given(parsers.re(r"the current opioids are:"))
def current_opioids(plan_request: dict[str, Any], datatable: list[list[str]]) -> None:
    """Columns: drug, dose, unit (mg, or mcg/h for patches), frequency, form."""
    for row in _table(datatable):
        plan_request["body"]["regimen"].append(
            _opioid(row["drug"], row["dose"], row["unit"], row["frequency"], row.get("form") or "tablet"))


@given(parsers.re(r"ULDN is (?P<negated>not )?prescribed alongside the taper"))
def uldn_alongside(plan_request: dict[str, Any], negated: str | None) -> None:
    plan_request["body"]["uldn"] = not negated


@given(parsers.re(r"the clinician proposes this taper:"))
def proposed_taper(plan_request: dict[str, Any], datatable: list[list[str]]) -> None:
    """Columns: date, total MME a day."""
    plan_request["body"]["proposed"] = [{"date": row["date"], "totalMme": _number(row["total mme a day"])}
                                        for row in _table(datatable)]


# ---- Given: a titration --------------------------------------------------------------------

@given(parsers.re(rf"an LDN titration starting on (?P<day>{DAY})"))
def titration_from(plan_request: dict[str, Any], day: str) -> None:
    plan_request.update(endpoint="/v1/titration", body={"start": day})


@given(parsers.re(r'the titration follows the "(?P<protocol>[a-z0-9-]+)" protocol'))
def titration_protocol(plan_request: dict[str, Any], protocol: str) -> None:
    plan_request["body"]["protocol"] = protocol


@given(parsers.re(rf"LDN is dispensed as (?P<formulation>capsules|liquid|drops)"
                  rf"(?: of (?P<concentration>{NUMBER}) mg/mL)?(?: with (?P<drops>{NUMBER}) drops per mL)?"))
def titration_formulation(plan_request: dict[str, Any], formulation: str, concentration: str | None,
                          drops: str | None) -> None:
    plan_request["body"]["formulation"] = formulation.removesuffix("s") if formulation == "capsules" else formulation
    if concentration:
        plan_request["body"]["liquidMgPerMl"] = _number(concentration)
    if drops:
        plan_request["body"]["dropsPerMl"] = _number(drops)


@given(parsers.re(rf"the target dose is (?P<mg>{NUMBER}) mg(?P<deliberate> and the prescriber asks for it deliberately)?"))
def titration_target(plan_request: dict[str, Any], mg: str, deliberate: str | None) -> None:
    plan_request["body"]["targetMg"] = _number(mg)
    if deliberate:
        plan_request["body"]["allowAboveUsualMax"] = True


@given(parsers.re(rf"the patient reports (?P<kind>side effects|sleep disturbance|GI effects) on (?P<day>{DAY})"))
def titration_adjustment(plan_request: dict[str, Any], kind: str, day: str) -> None:
    plan_request["body"].setdefault("adjustments", []).append({"kind": _ADJUSTMENTS[kind], "on": day})


# ---- When ----------------------------------------------------------------------------------

@when(parsers.re(r"the (?:taper|proposed taper|titration) is (?:planned|checked)"), target_fixture="plan_answer")
def send_plan(client: FlaskClient, plan_request: dict[str, Any]) -> PlanAnswer:
    assert "endpoint" in plan_request, "start with 'Given a taper planned from ...' or 'Given an LDN titration ...'"
    response = client.post(plan_request["endpoint"], json=plan_request["body"])
    return PlanAnswer(response.status_code, response.get_json())


# ---- Then: taper ---------------------------------------------------------------------------

@then(parsers.re(rf"the starting dose is (?P<mme>{NUMBER}) MME a day"))
def starting_mme(plan_answer: PlanAnswer, mme: str) -> None:
    assert abs(plan_answer.plan()["startMme"] - float(mme)) < 0.01, f"start MME is {plan_answer.plan()['startMme']}"


@then(parsers.re(rf"(?P<drug>[a-z]+) counts (?P<factor>{NUMBER}) MME per (?P<per>mg/day|mcg/h) \(CDC 2022\)"))
def mme_factor(plan_answer: PlanAnswer, drug: str, factor: str, per: str) -> None:
    factors = {f["ingredient"]: f for f in plan_answer.plan()["factors"]}
    assert drug in factors, f"no factor for {drug}: {sorted(factors)}"
    found = factors[drug]
    assert (found["factor"], found["per"], found["source"]) == (float(factor), per, "CDC 2022"), found


@then(parsers.re(r"the first step down comes (?P<days>\d+) days after the start or a whole number of "
                 r"(?P=days)-day intervals later"))
def first_step_date(plan_answer: PlanAnswer, days: str) -> None:
    first = plan_answer.step(1)
    elapsed = _days(plan_answer.step(0)["date"], first["date"])
    assert elapsed >= int(days) and elapsed % int(days) == 0, f"the first step down is {elapsed} days after the start"


@then(parsers.re(r"every step is dated a whole number of (?P<days>\d+)-day intervals after the one before"))
def step_dates(plan_answer: PlanAnswer, days: str) -> None:
    steps = plan_answer.steps()
    for earlier, later in zip(steps, steps[1:], strict=False):
        elapsed = _days(earlier["date"], later["date"])
        assert elapsed >= int(days) and elapsed % int(days) == 0, \
            f"step {later['number']} ({later['date']}) is {elapsed} days after step {earlier['number']}"


@then(parsers.re(rf"the first step down takes off at most (?P<pct>{NUMBER})% of the starting dose for each "
                 rf"(?P<days>\d+) days since the start, give or take (?P<tolerance>{NUMBER})% for rounding"))
def first_step_rate(plan_answer: PlanAnswer, pct: str, days: str, tolerance: str) -> None:
    start, first = plan_answer.step(0), plan_answer.step(1)
    periods = _days(start["date"], first["date"]) / int(days)
    allowed = start["totalMme"] * (float(pct) / 100 * periods + float(tolerance) / 100)
    taken = start["totalMme"] - first["totalMme"]
    assert 0 < taken <= allowed + EPS, (f"step 1 takes off {taken:g} MME/day in {periods:g} periods of {days} days; "
                                        f"at most {allowed:g} allowed")


@then(parsers.re(rf"every reduction before the final stop takes off at most (?P<pct>{NUMBER})% of the dose before "
                 rf"it for each (?P<days>\d+) days, give or take (?P<tolerance>{NUMBER})% for rounding"))
def every_step_rate(plan_answer: PlanAnswer, pct: str, days: str, tolerance: str) -> None:
    steps = plan_answer.steps()
    for earlier, later in zip(steps[:-1], steps[1:-1], strict=False):  # the final stop is the last step
        periods = _days(earlier["date"], later["date"]) / int(days)
        allowed = earlier["totalMme"] * (float(pct) / 100 * periods + float(tolerance) / 100)
        taken = earlier["totalMme"] - later["totalMme"]
        assert taken <= allowed + EPS, (f"step {later['number']} ({later['date']}) takes off {taken:g} MME/day, "
                                        f"more than {allowed:g}")


@then(parsers.re(r"no step raises the total MME"))
def never_up(plan_answer: PlanAnswer) -> None:
    totals = [s["totalMme"] for s in plan_answer.steps()]
    assert all(later <= earlier + EPS for earlier, later in zip(totals, totals[1:], strict=False)), totals


@then(parsers.re(r"the last step is 0 MME a day with every opioid stopped"))
def ends_at_zero(plan_answer: PlanAnswer) -> None:
    last = plan_answer.steps()[-1]
    assert last["totalMme"] == 0 and all(dose[1] == 0 for dose in last["doses"]), last


@then(parsers.re(r"every step shows its date, each opioid's dose, the total MME and the percentage of the starting dose"))
def steps_complete(plan_answer: PlanAnswer) -> None:
    drugs = {f["ingredient"] for f in plan_answer.plan()["factors"]}
    for step in plan_answer.steps():
        date.fromisoformat(step["date"])
        assert {dose[0] for dose in step["doses"]} == drugs, step
        assert step["totalMme"] >= 0 and 0 <= step["percentOfStart"] <= 100, step
        expected = step["totalMme"] / plan_answer.plan()["startMme"] * 100
        assert abs(step["percentOfStart"] - expected) < 0.01, step


@then(parsers.re(r"follow-up is booked at least every (?P<days>\d+) days until after the last step"))
def follow_up(plan_answer: PlanAnswer, days: str) -> None:
    plan = plan_answer.plan()
    visits = [plan["steps"][0]["date"], *plan["followUp"]]
    gaps = [_days(a, b) for a, b in zip(visits, visits[1:], strict=False)]
    assert gaps and max(gaps) <= int(days), f"follow-up gaps {gaps}"
    assert visits[-1] > plan["steps"][-1]["date"], "no follow-up after the last step"


@then(parsers.re(r'every step lists ULDN "(?P<text>[^"]+)" alongside'))
def uldn_listed(plan_answer: PlanAnswer, text: str) -> None:
    assert all(step["uldn"] == text for step in plan_answer.steps()), {s["uldn"] for s in plan_answer.steps()}


@then(parsers.re(r"no step lists ULDN"))
def uldn_not_listed(plan_answer: PlanAnswer) -> None:
    assert all(step["uldn"] is None for step in plan_answer.steps())


@then(parsers.re(r'the plan notes say "(?P<text>[^"]+)"'))
def plan_notes(plan_answer: PlanAnswer, text: str) -> None:
    notes = " ".join(plan_answer.plan()["notes"])
    assert text.lower() in notes.lower(), f"the notes do not say {text!r}: {plan_answer.plan()['notes']}"


@then(parsers.re(r'the planner refuses because "(?P<text>[^"]+)"'))
def refused(plan_answer: PlanAnswer, text: str) -> None:
    assert plan_answer.status == 400, f"expected a refusal, got {plan_answer.status}"
    errors = " ".join(message for messages in plan_answer.body["errors"].values() for message in messages)
    assert text.lower() in errors.lower(), f"the refusal does not say {text!r}: {errors}"


@then(parsers.re(r"the proposed taper is (?P<verdict>acceptable|not acceptable)"))
def verdict(plan_answer: PlanAnswer, verdict: str) -> None:
    body = plan_answer.plan()
    assert body["acceptable"] is (verdict == "acceptable"), body["problems"]


@then(parsers.re(r"step (?P<number>\d+) of the proposal is flagged as (?P<problem>too fast|an increase)"))
def flagged(plan_answer: PlanAnswer, number: str, problem: str) -> None:
    problems = plan_answer.plan()["problems"]
    mine = [p for p in problems if p.startswith(f"step {number} (")]
    assert mine and problem in mine[0], f"step {number} is not flagged as {problem}: {problems}"


@then(parsers.re(r"only step (?P<number>\d+) of the proposal is flagged"))
def only_flagged(plan_answer: PlanAnswer, number: str) -> None:
    problems = plan_answer.plan()["problems"]
    assert [p.split(" (")[0] for p in problems] == [f"step {number}"], problems


# ---- Then: titration -----------------------------------------------------------------------

@then(parsers.re(rf"step (?P<number>\d+) is (?P<mg>{NUMBER}) mg (?P<when>at bedtime|in the morning) "
                 rf"from (?P<start>{DAY}) to (?P<end>{DAY})"))
def titration_step(plan_answer: PlanAnswer, number: str, mg: str, when: str, start: str, end: str) -> None:
    step = plan_answer.step(int(number))
    assert (step["doseMg"], step["timeOfDay"], step["start"], step["end"]) == \
        (float(mg), _TIME_OF_DAY[when], start, end), step


@then(parsers.re(r"step (?P<number>\d+) dispenses \"(?P<text>[^\"]+)\""))
def titration_dispense(plan_answer: PlanAnswer, number: str, text: str) -> None:
    step = plan_answer.step(int(number))
    assert text in step["dispense"], f"step {number} dispenses {step['dispense']!r}"


@then(parsers.re(rf"the titration reaches (?P<mg>{NUMBER}) mg and never goes above it"))
def titration_reaches(plan_answer: PlanAnswer, mg: str) -> None:
    doses = [s["doseMg"] for s in plan_answer.steps()]
    assert doses[-1] == float(mg) and max(doses) <= float(mg) + EPS, doses


@then(parsers.re(rf"the titration never goes above (?P<mg>{NUMBER}) mg"))
def titration_ceiling(plan_answer: PlanAnswer, mg: str) -> None:
    doses = [s["doseMg"] for s in plan_answer.steps()]
    assert max(doses) <= float(mg) + EPS, doses


@then(parsers.re(rf"each step is (?P<mg>{NUMBER}) mg above the one before and lasts (?P<days>\d+) days"))
def titration_increments(plan_answer: PlanAnswer, mg: str, days: str) -> None:
    steps = plan_answer.steps()
    for earlier, later in zip(steps, steps[1:], strict=False):
        assert abs(later["doseMg"] - earlier["doseMg"] - float(mg)) < EPS, (earlier, later)
    for step in steps:
        assert _days(step["start"], step["end"]) + 1 == int(days), step


@then(parsers.re(rf"from (?P<day>{DAY}) the dose is (?P<mg>{NUMBER}) mg for (?P<days>\d+) days, "
                 rf"then (?P<resumed>{NUMBER}) mg again"))
def halved_then_resumed(plan_answer: PlanAnswer, day: str, mg: str, days: str, resumed: str) -> None:
    steps = plan_answer.steps()
    index = next((i for i, s in enumerate(steps) if s["start"] == day), None)
    assert index is not None, f"no step starts on {day}: {[s['start'] for s in steps]}"
    step = steps[index]
    assert step["doseMg"] == float(mg) and _days(step["start"], step["end"]) + 1 == int(days), step
    assert index + 1 < len(steps) and steps[index + 1]["doseMg"] == float(resumed), steps[index + 1:index + 2]


@then(parsers.re(rf"from (?P<day>{DAY}) every dose is taken in the morning"))
def morning_from(plan_answer: PlanAnswer, day: str) -> None:
    later = [s for s in plan_answer.steps() if s["end"] >= day]
    assert later and all(s["timeOfDay"] == "morning" for s in later if s["start"] >= day), later
    assert all(s["timeOfDay"] == "bedtime" for s in plan_answer.steps() if s["end"] < day)


@then(parsers.re(rf"from (?P<day>{DAY}) the dose is held at (?P<mg>{NUMBER}) mg to the end of the plan"))
def held_from(plan_answer: PlanAnswer, day: str, mg: str) -> None:
    later = [s for s in plan_answer.steps() if s["end"] >= day]
    assert later and all(s["doseMg"] == float(mg) for s in later), later
