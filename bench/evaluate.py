"""In-process evaluation speed and memory for a realistic patient.

Prints per-patient median and p99 for: the floor (parse the JSON body and serialize a
response of the same size), the full JSON API path (parse, validate, normalize, rules, render,
serialize), normalization alone and the rule engine alone; ratios against the floor and against
the reference CQL engine's ~24 ms per patient (measured for the project, see README).
Usage: python bench/evaluate.py [--n 20000]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import statistics
import time
from pathlib import Path

from cds.schemas import EVALUATE_REQUEST
from cds.service import Evaluator

REFERENCE_CQL_MS = 24.0

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


def rss_mib() -> float:
    with open(f"/proc/{os.getpid()}/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(function, n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        function()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    return samples


def p99(samples: list[float]) -> float:
    return sorted(samples)[int(len(samples) * 0.99) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=20_000, help="evaluations per measurement")
    args = parser.parse_args()
    started = time.perf_counter()
    evaluator = Evaluator()
    startup_ms = (time.perf_counter() - started) * 1000
    body = json.dumps(PATIENT)
    response = json.dumps(evaluator.evaluate(EVALUATE_REQUEST.load(json.loads(body))).to_dict())
    request = EVALUATE_REQUEST.load(json.loads(body))
    record = evaluator.normalizer.record(request)
    alerts = len(evaluator.evaluate_record(record).alerts)

    def floor() -> None:
        json.loads(body)
        json.dumps(json.loads(response))

    def full() -> None:
        json.dumps(evaluator.evaluate(EVALUATE_REQUEST.load(json.loads(body))).to_dict())

    def normalize_only() -> None:
        evaluator.normalizer.record(request)

    def normalize_cold() -> None:
        # Every medication line as if never seen before (the reading cache emptied first).
        evaluator.normalizer.medications._read_cached.cache_clear()
        evaluator.normalizer.record(request)

    def validate_only() -> None:
        EVALUATE_REQUEST.load(json.loads(body))

    def engine_only() -> None:
        evaluator.engine.evaluate(record.facts())

    for warm in (floor, full, normalize_only, normalize_cold, validate_only, engine_only):
        timed(warm, 500)
    gc.collect()
    memory_before = rss_mib()
    rows = []
    for name, function in (("floor: parse + serialize", floor), ("full evaluation (API path)", full),
                           ("parse + marshmallow validation only", validate_only),
                           ("normalization only (medication lines seen before)", normalize_only),
                           ("normalization only (every line new)", normalize_cold),
                           ("rule engine only", engine_only)):
        samples = timed(function, args.n)
        rows.append((name, statistics.median(samples), p99(samples)))
    memory_after = rss_mib()

    floor_median = rows[0][1]
    full_median = rows[1][1]
    lines = [
        f"Realistic patient: {len(PATIENT['medications'])} medications, {len(PATIENT['conditions'])} conditions, "
        f"{len(PATIENT['labs'])} labs, {len(record.facts())} facts, {len(evaluator.rulebook.rules)} rules, "
        f"{alerts} alerts; n = {args.n} per row; start-up {startup_ms:.0f} ms.",
        "",
        "| measurement | median ms | p99 ms | × floor |",
        "|---|---:|---:|---:|",
    ]
    lines += [f"| {name} | {median:.3f} | {tail:.3f} | {median / floor_median:.1f} |" for name, median, tail in rows]
    lines += [
        "",
        f"Full evaluation vs the reference CQL engine ({REFERENCE_CQL_MS:.0f} ms/patient): "
        f"{REFERENCE_CQL_MS / full_median:.0f}× faster (median).",
        f"Throughput, one core: {1000 / full_median:,.0f} evaluations/s.",
        f"Memory (RSS) across {len(rows) * args.n:,} measured calls: {memory_before:.1f} → {memory_after:.1f} MiB.",
    ]
    text = "\n".join(lines)
    print(text)
    out = Path(__file__).with_name("results-evaluate.md")
    out.write_text("# bench/evaluate.py\n\n" + text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
