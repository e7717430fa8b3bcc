"""Regression tests for cds.engine: one per durable-rules defect (durable-rules.md), on the real C core."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import warnings
from datetime import datetime, timezone

import pytest

from cds.engine import Engine, Match
from cds.exceptions import EngineError, RuleActionError
from cds.service import Evaluator

RULES = {
    "opioid-conflict": {"all": [
        {"order": {"$and": [{"fact": "order"}, {"class": "naltrexone"}, {"$gte": {"mg": 0.5}}]}},
        {"medication": {"$and": [{"fact": "medication"}, {"class": "opioid"}]}},
    ]},
    "pregnant": {"all": [{"patient": {"$and": [{"fact": "patient"}, {"pregnancy": "pregnant"}]}}]},
    "new-start": {"all": [
        {"order": {"$and": [{"fact": "order"}, {"class": "naltrexone"}]}},
        {"medication$not": {"$and": [{"fact": "medication"}, {"class": "naltrexone"}]}},
    ]},
}


@pytest.fixture(scope="module")
def engine() -> Engine:
    return Engine(RULES, name="test")


def fired(matches: list[Match]) -> set[str]:
    return {match.rule for match in matches}


def run_out_of_process(script: str) -> str:
    """Run `script` in a fresh interpreter: a segfault there fails this test, not the whole run."""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-500:]
    return done.stdout.strip()


def test_patient_with_no_alerts_does_not_crash_the_process() -> None:
    # Defect 1: delete_state segfaulted for sessions with no completed action. A crash would
    # kill the child with SIGSEGV (return code -11), so run it out of process.
    script = (
        "from cds.engine import Engine\n"
        f"engine = Engine({RULES!r})\n"
        "for _ in range(500):\n"
        "    assert engine.evaluate([{'fact': 'patient', 'pregnancy': 'unknown'}]) == []\n"
        "    assert engine.evaluate([]) == []\n"
        "print('ok')\n"
    )
    assert run_out_of_process(script) == "ok"


def test_a_real_patient_with_no_alerts_does_not_crash_the_process() -> None:
    script = (
        "from cds.service import Evaluator\n"
        "evaluator = Evaluator()\n"
        "for _ in range(200):\n"
        "    result = evaluator.evaluate({'patient': {'age': 70, 'sex': 'male'},"
        " 'medications': [{'text': 'metformin 500 mg bid'}]})\n"
        "    assert result.alerts == [], result.alerts\n"
        "print('ok')\n"
    )
    assert run_out_of_process(script) == "ok"


def test_5000_evaluations_in_a_row_do_not_exhaust_sessions(engine: Engine) -> None:
    # Defect 2: 1024 live sessions per ruleset, then MemoryError.
    facts = [{"fact": "patient", "pregnancy": "pregnant"}]
    for _ in range(5000):
        assert fired(engine.evaluate(facts)) == {"pregnant"}


def test_sessions_are_released_when_an_action_fails(engine: Engine) -> None:
    # Defect 2, exception path: a leaked session is lost for good.
    def fail(match: Match) -> None:
        raise ValueError("boom")

    for _ in range(1100):
        with pytest.raises(RuleActionError):
            engine.evaluate([{"fact": "patient", "pregnancy": "pregnant"}], on_match=fail)
    assert fired(engine.evaluate([{"fact": "patient", "pregnancy": "pregnant"}])) == {"pregnant"}


def test_a_fact_that_matches_no_rule_does_not_lose_the_other_alerts(engine: Engine) -> None:
    # Defect 3: "not handled" raised before the actions ran; they then ran later, or never.
    facts = [{"fact": "lab", "analyte": "unrelated"}, {"fact": "patient", "pregnancy": "pregnant"},
             {"fact": "something-else"}]
    assert fired(engine.evaluate(facts)) == {"pregnant"}


def test_an_exception_inside_an_action_reaches_the_caller(engine: Engine) -> None:
    # Defect 5: exceptions were swallowed into the session state.
    seen: list[str] = []

    def explode(match: Match) -> None:
        seen.append(match.rule)
        raise KeyError("missing template value")

    with pytest.raises(RuleActionError) as raised:
        engine.evaluate([{"fact": "patient", "pregnancy": "pregnant"}], on_match=explode)
    assert raised.value.rule_id == "pregnant"
    assert isinstance(raised.value.cause, KeyError)
    assert "missing template value" in str(raised.value)
    assert seen == ["pregnant"]


def test_engine_errors_have_a_message() -> None:
    # Defect 6: durable's exceptions had an empty str().
    with pytest.raises(EngineError) as raised:
        Engine({"broken": {"all": [{"m": {"$unknown-operator": {"x": 1}}}]}})
    assert "durable-rules refused the ruleset" in str(raised.value)
    with pytest.raises(EngineError, match="not plain JSON"):
        Engine(RULES).evaluate([{"fact": "patient", "pregnancy": float("nan")}])


def test_actions_fire_with_deprecation_warnings_as_errors(engine: Engine) -> None:
    # Defect 7: on Python 3.12 with warnings as errors, utcfromtimestamp stopped actions.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert fired(engine.evaluate([{"fact": "patient", "pregnancy": "pregnant"}])) == {"pregnant"}


def test_threads_share_one_engine_without_wrong_results(engine: Engine) -> None:
    # Defect 8: the C core holds the GIL; the wrapper serialises calls so results stay right.
    errors: list[str] = []

    def work(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(300):
            pregnant = rng.random() < 0.5
            got = fired(engine.evaluate([{"fact": "patient", "pregnancy": "pregnant" if pregnant else "no"}]))
            if got != ({"pregnant"} if pregnant else set()):
                errors.append(f"seed {seed}: {got}")

    threads = [threading.Thread(target=work, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_negation_does_not_depend_on_fact_order(engine: Engine) -> None:
    # Defect 9 (found here): a negated pattern was not re-checked for facts asserted after the
    # positive one, so "no naltrexone on the list" held if the list came after the order.
    order = {"fact": "order", "class": "naltrexone", "mg": 0.001}
    current = {"fact": "medication", "class": "naltrexone"}
    assert "new-start" not in fired(engine.evaluate([order, current]))
    assert "new-start" not in fired(engine.evaluate([current, order]))
    assert "new-start" in fired(engine.evaluate([order]))


@pytest.mark.slow
def test_20000_randomized_evaluations_lose_no_alert(engine: Engine) -> None:
    # Defect 4 (timer threads stealing actions) and 9, measured: every evaluation's alerts are
    # known by construction and checked.
    rng = random.Random(20_000)
    for index in range(20_000):
        facts = []
        expected = set()
        ordered = rng.random() < 0.7
        mg = rng.choice([0.002, 0.25, 0.5, 4.5, 50])
        on_opioid = rng.random() < 0.5
        on_naltrexone = rng.random() < 0.3
        if ordered:
            facts.append({"fact": "order", "class": "naltrexone", "mg": mg})
        if on_opioid:
            facts.append({"fact": "medication", "class": "opioid", "name": f"opioid-{index}"})
        if on_naltrexone:
            facts.append({"fact": "medication", "class": "naltrexone"})
        if rng.random() < 0.4:
            facts.append({"fact": "patient", "pregnancy": "pregnant"})
            expected.add("pregnant")
        facts += [{"fact": "noise", "n": n} for n in range(rng.randint(0, 5))]
        rng.shuffle(facts)
        if ordered and on_opioid and mg >= 0.5:
            expected.add("opioid-conflict")
        if ordered and not on_naltrexone:
            expected.add("new-start")
        assert fired(engine.evaluate(facts)) == expected, (index, facts)


# ---- the same guarantees through the real rule set -------------------------------------------

_NOW = datetime(2026, 11, 23, 12, tzinfo=timezone.utc)
# Each trigger: request fragments and the rule ids they must raise with an LDN 4.5 mg order.
_TRIGGERS: dict[str, tuple[dict, set[str]]] = {
    "opioid": ({"medications": [{"text": "oxycodone 5 mg q6h"}]}, {"LDN-OPI-001"}),
    "cough": ({"medications": [{"text": "Tussionex 5 mL q12h"}]}, {"LDN-OPI-003", "LDN-DQ-003"}),
    "transplant": ({"conditions": [{"code": "Z94.0"}]}, {"LDN-IMM-001"}),
    "tacrolimus": ({"medications": [{"text": "tacrolimus 1 mg bid"}]}, {"LDN-IMM-002"}),
    "pregnant": ({"patient": {"pregnancy": {"status": "pregnant"}}}, {"LDN-PREG-001"}),
    "breastfeeding": ({"patient": {"lactation": {"status": "lactating"}}}, {"LDN-LACT-001"}),
    "ckd": ({"conditions": [{"code": "N18.5"}]}, {"LDN-REN-002"}),
    "thioridazine": ({"medications": [{"text": "thioridazine 50 mg bid"}]}, {"LDN-INT-001"}),
    "disulfiram": ({"medications": [{"text": "disulfiram 250 mg daily"}]}, {"LDN-INT-002"}),
    "unknown drug": ({"medications": [{"text": "Zorblax 5 mg daily"}]}, {"LDN-DQ-001"}),
    "narcan": ({"medications": [{"text": "Narcan kit"}]}, {"LDN-DUP-004"}),
    "cirrhosis": ({"conditions": [{"code": "K74.60"}]}, {"LDN-HEP-001"}),
    "on ldn": ({"medications": [{"text": "LDN 1.5 mg qhs"}]}, {"LDN-DUP-005"}),
}
_NOISE = [{"text": "metformin 500 mg bid"}, {"text": "prednisone 5 mg daily"}, {"text": "levothyroxine 50 mcg daily"},
          {"text": "dextromethorphan 30 mg q6h"}]


@pytest.mark.slow
def test_20000_randomized_patients_through_the_real_rules_lose_no_alert(evaluator: Evaluator) -> None:
    rng = random.Random(2026)
    names = sorted(_TRIGGERS)
    for index in range(20_000):
        chosen = rng.sample(names, rng.randint(0, 4))
        request: dict = {"evaluationTime": _NOW, "order": {"text": "LDN 4.5 mg qhs"},
                         "patient": {"age": 60, "sex": "male"}, "medications": [], "conditions": []}
        expected = {"LDN-TIT-001"}  # a new 4.5 mg start is above the 1.5 mg start dose
        for name in chosen:
            fragment, rules = _TRIGGERS[name]
            for key, value in fragment.items():
                if key == "patient":
                    request["patient"] = {**request["patient"], "sex": "female", "age": 60, **value}
                else:
                    request[key] = request[key] + value
            expected |= rules
        if "on ldn" in chosen:
            expected.discard("LDN-TIT-001")
        request["medications"] += rng.sample(_NOISE, rng.randint(0, len(_NOISE)))
        rng.shuffle(request["medications"])
        rng.shuffle(request["conditions"])
        got = {alert.rule.id for alert in evaluator.evaluate(request).alerts}
        assert got == expected, (index, chosen, got ^ expected)


@pytest.mark.parametrize("value", [1e-05, 1.5e-07, 1e16, 1e300, 5e-324])
def test_numbers_json_writes_in_exponent_form_do_not_crash_the_process(value: float) -> None:
    # Defect 10 (found here): the C core's JSON reader aborts on "1e-05". Out of process, as a
    # crash would take pytest down with it.
    script = (
        "from cds.engine import Engine\n"
        "engine = Engine({'small': {'all': [{'m': {'$and': [{'fact': 'dose'}, {'$lt': {'mg': 0.0001}}]}}]}})\n"
        f"matches = engine.evaluate([{{'fact': 'dose', 'mg': {value!r}, 'name': 'text with 1e-05 in it'}}])\n"
        "print(sorted(m.rule for m in matches), matches[0].facts['m']['name'] if matches else '')\n"
    )
    expected = "['small'] text with 1e-05 in it" if value < 0.0001 else "[]"
    assert run_out_of_process(script) == expected


def test_a_fact_too_wide_for_the_core_is_refused_not_crashed(engine: Engine) -> None:
    # Defect 11 (found here): about 255 fields or more made the core fail or segfault.
    # Only fields a rule tests reach the core, so a wide fact is safe unless the rules test that many.
    wide = {"fact": "patient", "pregnancy": "pregnant", **{f"field{n}": n for n in range(300)}}
    [match] = engine.evaluate([wide])
    assert match.facts["patient"] is wide  # the caller's own fact comes back
    tests_many = Engine({"many": {"all": [{"m": {"$and": [{"fact": "patient"},
                                                          *({f"field{n}": n} for n in range(200))]}}]}})
    with pytest.raises(EngineError, match="more than 128 fields"):
        tests_many.evaluate([wide])
    assert fired(engine.evaluate([{"fact": "patient", "pregnancy": "pregnant"}])) == {"pregnant"}
