"""Tasks run in this process, or on Dask workers (a real cluster here, never a mock)."""

from __future__ import annotations

from typing import Any

import pytest

from cds.screening.executor import InProcess, OnDask, open_executor, scheduler_address
from cds.screening.layout import shard_of

KEYS = [b"p1", b"p2", b"p3", b"p4", b"p5"]


def test_in_process_runs_each_item_in_order() -> None:
    assert list(InProcess().run(shard_of, KEYS, shards=7)) == [shard_of(key, 7) for key in KEYS]


def test_one_worker_runs_in_this_process() -> None:
    with open_executor(workers=1) as executor:
        assert isinstance(executor, InProcess) and executor.slots == 1


def test_the_scheduler_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    assert scheduler_address(None) is None
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://127.0.0.1:8786")
    assert scheduler_address(None) == "tcp://127.0.0.1:8786"
    assert scheduler_address("tcp://127.0.0.1:9999") == "tcp://127.0.0.1:9999"


def test_an_existing_cluster_runs_the_tasks_on_its_workers(dask_cluster: Any) -> None:
    with open_executor(scheduler=dask_cluster.scheduler_address) as executor:
        assert isinstance(executor, OnDask) and executor.slots == 2
        assert sorted(executor.run(shard_of, KEYS, shards=7)) == sorted(shard_of(key, 7) for key in KEYS)
        assert list(executor.run(shard_of, [], shards=7)) == []


def test_a_task_that_fails_on_a_worker_stops_the_run_with_its_error(dask_cluster: Any) -> None:
    with open_executor(scheduler=dask_cluster.scheduler_address) as executor:
        with pytest.raises(TypeError):
            list(executor.run(shard_of, ["not bytes"], shards=7))
