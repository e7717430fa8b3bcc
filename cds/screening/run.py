"""A whole screening run: read and partition, join Medications, screen the shards, merge the parts.

    inputs.discover → partition_chunk (a task per chunk) → report_malformed
                    → join_bucket (a task per Medication bucket, only if Medications were exported)
                    → screen_shard (a task per shard) → merge_parts → Summary

Each stage's tasks run on the executor (this process, or Dask workers); the driver only moves
counts and writes the reports. The work directory (shards, parts) is removed at the end, also
when the run fails.
"""

from __future__ import annotations

import logging
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

from .executor import Executor, open_executor
from .inputs import Inputs, chunks, discover
from .layout import Layout, plan
from .medications import join_bucket
from .output import merge_parts
from .partition import ChunkResult, partition_chunk
from .report import report_malformed
from .shard import screen_shard
from .summary import Summary

log = logging.getLogger("cds.screening")


@dataclass(frozen=True)
class ScreenOptions:
    input: Path
    out: Path
    summary: Path
    errors: Path
    as_of: datetime
    workers: int | None = None  # default: one per core
    scheduler: str | None = None  # an existing Dask scheduler (or DASK_SCHEDULER_ADDRESS)
    shards: int | None = None  # default: from the input's size and the workers
    work_dir: Path | None = None  # default: beside the output
    progress: bool = False


def screen(options: ScreenOptions, echo: Callable[[str], None] = print) -> Summary:
    """Screen every patient of `options.input`; `echo` gets the malformed lines (for stderr).
    Raises `cds.screening.inputs.InputProblem` when the input cannot be read at all."""
    started = time.perf_counter()
    inputs = discover(options.input)
    summary = Summary(as_of=options.as_of.isoformat(), files_skipped=list(inputs.skipped))
    root = Path(tempfile.mkdtemp(prefix=".ldn-screen-", dir=options.work_dir or options.out.parent))
    try:
        with open_executor(options.workers, options.scheduler) as executor:
            layout = plan(root, inputs.size, executor.slots, options.shards)
            layout.create()
            log.info("screening started", extra={"files": len(inputs.files), "bytes": inputs.size,
                                                 "shards": layout.shards, "slots": executor.slots})
            _read(executor, inputs, layout, options, summary, echo)
            _stage("read", started)
            with _bar(options, total=layout.shards, unit="shard", desc="screening") as bar:
                for part in executor.run(screen_shard, range(layout.shards), layout=layout, as_of=options.as_of):
                    summary.merge(part)
                    bar.update(1)
                    bar.set_postfix(patients=f"{summary.patients:,}", refresh=False)
            _stage("screened", started)
            merge_parts(layout, options.out)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    summary.seconds = time.perf_counter() - started
    summary.write_csv(options.summary)
    log.info("screening finished", extra={"patients": summary.patients, "errors": summary.patients_with_errors,
                                          "malformed": summary.malformed_lines, "seconds": round(summary.seconds, 2)})
    return summary


def _read(executor: Executor, inputs: Inputs, layout: Layout, options: ScreenOptions, summary: Summary,
          echo: Callable[[str], None]) -> None:
    """Partition every chunk into the shards, report the malformed lines, join the Medications."""
    pieces = chunks(inputs)
    results: dict[int, ChunkResult] = {}
    with _bar(options, total=inputs.size, unit="B", unit_scale=True, desc="reading") as bar:
        for result in executor.run(partition_chunk, pieces, layout=layout):
            results[result.chunk] = result
            bar.update(result.bytes)
    for result in results.values():
        summary.lines += result.lines
        summary.records += result.records
        summary.ignored_lines += result.ignored
    summary.malformed_lines = report_malformed(pieces, results, layout, options.errors, echo)
    if any(result.medications for result in results.values()):
        for _ in executor.run(join_bucket, range(layout.buckets), layout=layout):
            pass


def _bar(options: ScreenOptions, **kwargs: object) -> tqdm:
    # On a terminal only: a log file or a pipe gets no carriage-return noise.
    return tqdm(file=sys.stderr, disable=not options.progress, leave=False, dynamic_ncols=True, **kwargs)


def _stage(name: str, started: float) -> None:
    log.info("screening stage", extra={"stage": name, "seconds": round(time.perf_counter() - started, 2)})
