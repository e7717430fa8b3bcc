"""Panel screening: patients per second and peak memory for a synthetic FHIR Bulk Data export.

Generates a 100,000-patient export (bench/synthetic_export.py, about 13 resources a patient), then
runs `ldn-cds screen` on it as a pharmacist would, in a separate process, with 1 and with 2 Dask
worker processes; and on 10,000 patients with 1 worker, to show that memory does not grow with the
panel. Peak memory is the largest total RSS of the screen's process tree, sampled every 50 ms.
Time is wall time of the whole command (start-up, partitioning to disk, screening, writing).

`python bench/screening.py [--patients 100000]` prints the figures; bench/run.py shows `run()`.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date
from pathlib import Path

if not __package__:
    sys.path[0] = str(Path(__file__).resolve().parents[1])  # bench/http.py must not shadow `http`

from bench.synthetic_export import generate  # noqa: E402
from bench.table import Row, Section, at_least  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGET_PER_CORE = 2_000
AS_OF = "2026-11-23T12:00:00Z"


def _tree_rss_mib(root: int) -> float:
    """Total RSS of `root` and its descendants (Dask's worker processes), from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            parent, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
        rss[int(entry)] = pages
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo += children.get(pid, [])
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def screen(export: Path, out: Path, workers: int) -> dict[str, float]:
    """Run `ldn-cds screen` once; wall seconds and peak RSS of its process tree."""
    command = [str(ROOT / ".venv" / "bin" / "ldn-cds"), "screen", str(export), "--out", str(out),
               "--as-of", AS_OF, "--workers", str(workers)]
    if not Path(command[0]).exists():
        command[0:1] = [sys.executable, "-m", "cds.cli"]
    peak = 0.0
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_mib(process.pid))
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - started
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise RuntimeError(f"ldn-cds screen failed ({process.returncode}): {stderr.decode()[-2000:]}")
    return {"seconds": seconds, "peak_mib": peak}


def measure(patients: int) -> dict[str, dict[str, float]]:
    with tempfile.TemporaryDirectory(prefix="ldn-screen-bench-") as temp:
        root = Path(temp)
        started = time.perf_counter()
        generate(root / "big", patients, 1, date.fromisoformat(AS_OF[:10]))
        generated = time.perf_counter() - started
        generate(root / "small", patients // 10, 2, date.fromisoformat(AS_OF[:10]))
        results = {"generate": {"seconds": generated},
                   "1 worker": screen(root / "big", root / "one.ndjson", 1),
                   "2 workers": screen(root / "big", root / "two.ndjson", 2),
                   "1 worker, a tenth": screen(root / "small", root / "small.ndjson", 1)}
        results["lines"] = {"count": sum(1 for _ in (root / "one.ndjson").open("rb"))}
        results["same"] = {"yes": float((root / "one.ndjson").read_bytes() == (root / "two.ndjson").read_bytes())}
        return results


def run(quick: bool = False) -> Section:
    patients = 10_000 if quick else 100_000
    m = measure(patients)
    one, two, small = m["1 worker"], m["2 workers"], m["1 worker, a tenth"]
    rate_one, rate_two = patients / one["seconds"], patients / two["seconds"]
    rows = [
        Row(f"{patients:,} patients, 1 worker", rate_one, "patients/s", *at_least(TARGET_PER_CORE, rate_one, "/s")),
        Row(f"{patients:,} patients, 2 workers", rate_two, "patients/s",
            *at_least(2 * TARGET_PER_CORE, rate_two, "/s")),
        Row("2 workers / 1 worker", rate_two / rate_one, "x"),
        Row(f"peak memory, 1 worker, {patients:,} patients", one["peak_mib"], "MiB"),
        Row(f"peak memory, 1 worker, {patients // 10:,} patients", small["peak_mib"], "MiB",
            result=f"{one['peak_mib'] / small['peak_mib']:.2f}x for 10x the patients"),
        Row(f"peak memory, 2 workers, {patients:,} patients (driver + workers)", two["peak_mib"], "MiB"),
        Row(f"synthetic export of {patients:,} patients generated in", m["generate"]["seconds"], "s"),
    ]
    notes = [f"`ldn-cds screen EXPORT --out alerts.ndjson --as-of {AS_OF} --workers N` in its own process, wall "
             f"time of the whole command (start-up, partitioning to disk, screening with the LDN review and CDC "
             f"Recommendation 11, writing the NDJSON and the summaries); {int(m['lines']['count']):,} output lines; "
             f"the 1- and 2-worker outputs are {'byte-identical' if m['same']['yes'] else 'DIFFERENT'}. "
             "Peak memory: the largest total RSS of the command's process tree (driver and Dask workers), "
             "sampled every 50 ms."]
    return Section("Panel screening (synthetic FHIR Bulk Data export)", rows, notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patients", type=int, default=100_000)
    m = measure(parser.parse_args().patients)
    for name, figures in m.items():
        print(name, {k: round(v, 2) for k, v in figures.items()})


if __name__ == "__main__":
    main()
