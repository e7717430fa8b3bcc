"""Where screening tasks run: in this process, on a local Dask cluster, or on an existing one.

* `--scheduler tcp://host:port` (or `DASK_SCHEDULER_ADDRESS`): an existing Dask cluster. Its
  workers need `ldn-cds` installed and must see the input and the work directory at the same paths
  (a shared file system); run them with one thread each (`dask worker --nthreads 1`): the rule
  engine holds the GIL, so threads add nothing.
* `--workers 1`: in this process, no cluster (the same task functions, one after another).
* otherwise a `LocalCluster` of N single-threaded worker processes on this machine, listening on
  the loopback interface only (its dashboard port is a random one there); Dask's own logs are silenced
  (a worker lost or a task failed still stops the run, with its error).

Tasks get only small picklable arguments (a chunk, the layout, the as-of time) and build what
cannot be pickled (the Evaluator) inside the worker (`cds.screening.evaluator`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Executor(Protocol):
    slots: int  # tasks that run at once

    def run(self, function: Callable[..., R], items: Sequence[T], **kwargs: Any) -> Iterator[R]:
        """`function(item, **kwargs)` for each item; results as they complete."""
        ...


class InProcess:
    slots = 1

    def run(self, function: Callable[..., R], items: Sequence[T], **kwargs: Any) -> Iterator[R]:
        for item in items:
            yield function(item, **kwargs)


class OnDask:
    def __init__(self, client: Any) -> None:
        self.client = client
        self.slots = max(1, sum(client.nthreads().values()))

    def run(self, function: Callable[..., R], items: Sequence[T], **kwargs: Any) -> Iterator[R]:
        from distributed import as_completed

        if not items:
            return
        # pure=False: a rerun of the same arguments is real work (files are rewritten), not a cache hit
        futures = self.client.map(function, list(items), pure=False, **kwargs)
        try:
            for future in as_completed(futures):
                yield future.result()  # a task that failed raises its error here and stops the run
        finally:
            self.client.cancel(futures)


def scheduler_address(option: str | None) -> str | None:
    return option or os.environ.get("DASK_SCHEDULER_ADDRESS") or None


@contextmanager
def open_executor(workers: int | None = None, scheduler: str | None = None) -> Iterator[Executor]:
    address = scheduler_address(scheduler)
    if address:
        from distributed import Client

        with Client(address) as client:
            yield OnDask(client)
        return
    workers = workers or os.cpu_count() or 1
    if workers == 1:
        yield InProcess()
        return
    import dask
    from distributed import Client, LocalCluster

    # No dashboard is looked at, so no statistical profiler sampling the task thread's stack every 10 ms.
    with dask.config.set({"distributed.worker.profile.enabled": False}), \
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                         dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL) as cluster, \
            Client(cluster) as client:
        yield OnDask(client)
