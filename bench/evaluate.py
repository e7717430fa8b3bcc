"""In-process evaluation speed and memory for a realistic patient.

Per-patient median and p99 for: the floor (parse the JSON body and serialize a response of the
same size), the full JSON API path (parse, validate, normalize, rules, render, serialize),
normalization alone and the rule engine alone; ratios against the floor and against the
reference CQL engine's ~24 ms per patient (measured for the project, see README).

`run(quick)` is the section bench/run.py shows; `python bench/evaluate.py [--n 20000]` prints the
detailed table and writes bench/results-evaluate.md, as before.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

if not __package__:
    # Run as a script, bench/ would come first on sys.path and bench/http.py would shadow the
    # standard library's `http` (which Flask imports): put the repository root there instead.
    sys.path[0] = str(Path(__file__).resolve().parents[1])

from bench.table import Row, Section, at_most  # noqa: E402
from flask import Flask  # noqa: E402

from cds.jsonio import FastJSONProvider  # noqa: E402
from cds.model import format_number  # noqa: E402
from cds.schemas import EVALUATE_REQUEST  # noqa: E402
from cds.service import Evaluator  # noqa: E402

REFERENCE_CQL_MS = 24.0
TARGET_MEDIAN_MS = 0.5  # issue 5: per patient, full API path
QUICK_N = 2_000

# 10 medications, 5 conditions, 5 labs: a patient on opioids being started on LDN.
PATIENT = {
    "evaluationTime": "2026-11-23T09:00:00Z",
    "patient": {"birthDate": "1971-04-02", "sex": "female"},
    "order": {"text": "LDN 1.5 mg at bedtime"},
    "medications": [
        {"text": "Percocet 5/325 1 q6h prn"},
        {"text": "tramadol 50mg bid", "status": "stopped", "end": "2026-11-15"},
        {"text": "Narcan 4 mg nasal spray prn"},
        {"text": "levothyroxine 75 mcg daily"},
        {"text": "metformin 500 mg bid"},
        {"text": "sertraline 50 mg daily"},
        {"text": "prednisone 5 mg daily"},
        {"text": "gabapentin 300 mg tid"},
        {"text": "omeprazole 20 mg daily"},
        {"code": "7243", "dose": {"value": 1, "unit": "mcg"}, "frequency": "bid", "status": "stopped",
         "end": "2026-09-01"},
    ],
    "conditions": [
        {"code": "M79.7", "text": "fibromyalgia"}, {"code": "E11.9"}, {"code": "N18.3"},
        {"code": "Z79.891"}, {"code": "K76.0", "text": "fatty liver"},
    ],
    "labs": [
        {"code": "1742-6", "value": 52, "unit": "U/L", "date": "2026-10-01"},
        {"code": "1920-8", "value": 38, "unit": "U/L", "date": "2026-10-01"},
        {"code": "98979-8", "value": 48, "unit": "mL/min/1.73m2", "date": "2026-10-01"},
        {"code": "2160-0", "value": 1.3, "unit": "mg/dL", "date": "2026-10-01"},
        {"code": "1975-2", "value": 0.8, "unit": "mg/dL", "date": "2026-10-01"},
    ],
}

FLOOR = "floor: parse + serialize"
FULL = "full evaluation (API path)"
FULL_COLD = "full evaluation, nothing seen before (caches emptied)"


@dataclass
class Measurements:
    n: int
    startup_ms: float
    facts: int
    rules: int
    alerts: int
    timings: list[tuple[str, float, float]]  # (measurement, median ms, p99 ms), the floor first
    memory_before: float  # RSS, MiB
    memory_after: float

    def median(self, name: str) -> float:
        return next(median for measured, median, _ in self.timings if measured == name)

    def p99(self, name: str) -> float:
        return next(tail for measured, _, tail in self.timings if measured == name)


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(function: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        function()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.99) - 1]


def measure(n: int) -> Measurements:
    started = time.perf_counter()
    evaluator = Evaluator()
    startup_ms = (time.perf_counter() - started) * 1000
    codec = FastJSONProvider(Flask(__name__))  # the service's own JSON (orjson), both ways
    body = json.dumps(PATIENT)
    response = codec.dumps(evaluator.evaluate(EVALUATE_REQUEST.load(codec.loads(body))).to_dict())
    request = EVALUATE_REQUEST.load(codec.loads(body))
    record = evaluator.normalizer.record(request)
    alerts = len(evaluator.evaluate_record(record).alerts)

    def floor() -> None:
        codec.loads(body)
        codec.dumps(codec.loads(response))

    def full() -> None:
        codec.dumps(evaluator.evaluate(EVALUATE_REQUEST.load(codec.loads(body))).to_dict())

    def full_cold() -> None:
        # Nothing seen before: every cache of entries, readings, codes and numbers emptied first.
        for name in ("order", "medications", "conditions"):
            EVALUATE_REQUEST.fields[name]._seen.clear()
        evaluator.normalizer.medications._read_cached.cache_clear()
        evaluator.terminology._concept_memo.clear()
        format_number.cache_clear()
        full()

    def normalize_only() -> None:
        evaluator.normalizer.record(request)

    def normalize_cold() -> None:
        # Every medication line as if never seen before (the reading cache emptied first).
        evaluator.normalizer.medications._read_cached.cache_clear()
        evaluator.normalizer.record(request)

    def validate_only() -> None:
        EVALUATE_REQUEST.load(codec.loads(body))

    def engine_only() -> None:
        evaluator.engine.evaluate(record.facts())

    for warm in (floor, full, full_cold, normalize_only, normalize_cold, validate_only, engine_only):
        timed(warm, 500)
    gc.collect()
    memory_before = rss_mib()
    timings = []
    for name, function in ((FLOOR, floor), (FULL, full), (FULL_COLD, full_cold),
                           ("parse + marshmallow validation only", validate_only),
                           ("normalization only (medication lines seen before)", normalize_only),
                           ("normalization only (every line new)", normalize_cold),
                           ("rule engine only", engine_only)):
        samples = timed(function, n)
        timings.append((name, statistics.median(samples), p99(samples)))
    return Measurements(n=n, startup_ms=startup_ms, facts=len(record.facts()), rules=len(evaluator.rulebook.rules),
                        alerts=alerts, timings=timings, memory_before=memory_before, memory_after=rss_mib())


def describe(m: Measurements) -> str:
    return (f"Realistic patient: {len(PATIENT['medications'])} medications, {len(PATIENT['conditions'])} conditions, "
            f"{len(PATIENT['labs'])} labs, {m.facts} facts, {m.rules} rules, {m.alerts} alerts; "
            f"n = {m.n} per row; start-up {m.startup_ms:.0f} ms.")


def run(quick: bool = False) -> Section:
    """The section for bench/run.py: the target row, the floor and the breakdown as ratios."""
    m = measure(QUICK_N if quick else 20_000)
    floor, full = m.median(FLOOR), m.median(FULL)
    rows = [
        Row(f"{FULL}, median", full, "ms", *at_most(TARGET_MEDIAN_MS, full, "ms")),
        Row(f"{FULL}, p99", m.p99(FULL), "ms"),
        Row(f"{FLOOR}, median", floor, "ms"),
        Row(f"{FLOOR}, p99", m.p99(FLOOR), "ms"),
        Row("full evaluation / floor (median)", full / floor, "x"),
    ]
    rows += [Row(f"  {name}, median", median, "ms", result=f"{median / floor:.1f}x floor")
             for name, median, _ in m.timings[2:]]
    rows += [
        Row("throughput, one core (1 / median)", 1000 / full, "evaluations/s"),
        Row(f"RSS growth over {len(m.timings) * m.n:,} calls", m.memory_after - m.memory_before, "MiB",
            result=f"{m.memory_before:.1f} -> {m.memory_after:.1f} MiB"),
    ]
    notes = [
        describe(m),
        "One process, no HTTP: the JSON API's own path (its JSON provider, orjson; marshmallow; normalization; "
        "durable-rules; alert rendering). The floor is parsing the request plus a round trip of the response "
        "with the same JSON provider: what any Python service must do with these bodies. The same patient is "
        "evaluated n times, so entries, drug readings and codes are remembered after the first; the 'nothing seen "
        "before' row empties those caches before every call (a panel of entirely new wording).",
        f"Reference CQL engine: about {REFERENCE_CQL_MS:.0f} ms per patient; full evaluation here is "
        f"{REFERENCE_CQL_MS / full:.0f}x faster (median).",
    ]
    return Section("In-process evaluation (one realistic patient)", rows, notes)


def report(m: Measurements) -> str:
    """The standalone script's detailed table (bench/results-evaluate.md)."""
    floor_median, full_median = m.median(FLOOR), m.median(FULL)
    lines = [describe(m), "", "| measurement | median ms | p99 ms | × floor |", "|---|---:|---:|---:|"]
    lines += [f"| {name} | {median:.3f} | {tail:.3f} | {median / floor_median:.1f} |"
              for name, median, tail in m.timings]
    lines += [
        "",
        f"Full evaluation vs the reference CQL engine ({REFERENCE_CQL_MS:.0f} ms/patient): "
        f"{REFERENCE_CQL_MS / full_median:.0f}× faster (median).",
        f"Throughput, one core: {1000 / full_median:,.0f} evaluations/s.",
        f"Memory (RSS) across {len(m.timings) * m.n:,} measured calls: "
        f"{m.memory_before:.1f} → {m.memory_after:.1f} MiB.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000, help="evaluations per measurement")
    args = parser.parse_args()
    text = report(measure(args.n))
    print(text)
    out = Path(__file__).with_name("results-evaluate.md")
    out.write_text("# bench/evaluate.py\n\n" + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
