"""`make bench`: run the benchmark sections, print one table, write bench/results.md.

Each section is a module in bench/ with `run(quick: bool) -> bench.table.Section`; add one by
adding its name to SECTIONS.

Usage: python bench/run.py [--only http[,evaluate]] [--quick] [--out PATH]
A full run writes bench/results.md; --only and --quick runs print only, unless --out is given
(so that a partial or rough run never replaces the recorded figures by accident).
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import signal
import sys
import time
import traceback
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Import sections as bench.<name> from the repository root: with bench/ itself first on sys.path,
# bench/http.py would shadow the standard library's `http`.
sys.path[0] = str(ROOT)

from bench.table import Section, machine_busy_seconds, markdown, terminal  # noqa: E402

SECTIONS = ("evaluate", "http", "screening", "rec11")
RESULTS = ROOT / "bench" / "results.md"
NOISY = 0.10  # share of the machine taken by other processes above which a section's figures are flagged


def _machine() -> list[str]:
    model = "unknown"
    try:
        model = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                     if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return [f"- Machine: {len(os.sched_getaffinity(0))} cores available ({os.cpu_count()} online), CPU {model}, "
            f"{platform.system()} {platform.release()}",
            f"- Python {platform.python_version()} ({sys.executable.replace(str(ROOT) + '/', '')})",
            f"- Date: {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}"]


def _measured(run: Callable[[bool], Section], quick: bool) -> Section:
    """Run a section and note how much of the machine other processes took meanwhile (everything
    busy minus this process and its children: servers and load generators, once reaped)."""
    busy, ours, started = machine_busy_seconds(), _own_cpu_seconds(), time.monotonic()
    section = run(quick)
    elapsed = time.monotonic() - started
    others = max(0.0, machine_busy_seconds() - busy - (_own_cpu_seconds() - ours))
    share = others / (elapsed * len(os.sched_getaffinity(0)))
    section.notes.append(f"Other processes took {share:.0%} of the machine while this section ran ({elapsed:.0f} s)"
                         + (": the figures may be low; run again when the machine is quiet." if share > NOISY else "."))
    if share > NOISY:
        print(f"  warning: other processes took {share:.0%} of the machine during this section", file=sys.stderr)
    return section


def _own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _terminate(signum: int, _frame: object) -> None:
    # SIGTERM/SIGHUP unwind like Ctrl-C, so every section's `with` blocks stop their servers.
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help=f"comma-separated sections among {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="shorter runs: rough figures, for trying changes")
    parser.add_argument("--out", type=Path, help=f"write the Markdown here (default for full runs: {RESULTS})")
    args = parser.parse_args()
    names = [name.strip() for name in args.only.split(",")] if args.only else list(SECTIONS)
    unknown = [name for name in names if name not in SECTIONS]
    if unknown:
        parser.error(f"unknown section(s) {', '.join(unknown)}; choose among {', '.join(SECTIONS)}")
    out = args.out or (RESULTS if not args.only and not args.quick else None)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    sections: list[Section] = []
    failed: list[str] = []
    started = time.monotonic()
    for name in names:
        print(f"running {name}...", file=sys.stderr, flush=True)
        try:
            sections.append(_measured(importlib.import_module(f"bench.{name}").run, args.quick))
        except Exception:  # one broken section must not hide the others' figures
            failed.append(name)
            traceback.print_exc()

    print()
    print(terminal(sections))
    if failed:
        print(f"\nFAILED: {', '.join(failed)} (see above); {out or 'no file'} not written.", file=sys.stderr)
        return 1
    if out:
        header = ["# Benchmarks (`make bench`)", "", *_machine(),
                  f"- Run: `python bench/run.py{' --quick' if args.quick else ''}"
                  f"{' --only ' + ','.join(names) if args.only else ''}`, {time.monotonic() - started:.0f} s",
                  "", "Generated by bench/run.py: do not edit by hand.", ""]
        out.write_text("\n".join(header) + "\n" + markdown(sections) + "\n", encoding="utf-8")
        print(f"\nwritten: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # the sections' servers are already stopped by their `with` blocks
        print("\ninterrupted: no results written", file=sys.stderr)
        sys.exit(130)
