"""Engines are built once per process, on first use."""

from __future__ import annotations

from cds.screening.evaluator import once_per_process, process_evaluator
from cds.service import Evaluator


def test_a_factory_is_called_once_per_process() -> None:
    calls: list[int] = []

    def build() -> object:
        calls.append(1)
        return object()

    assert once_per_process(build) is once_per_process(build)
    assert calls == [1]


def test_the_process_evaluator_is_built_once() -> None:
    evaluator = process_evaluator()
    assert isinstance(evaluator, Evaluator) and process_evaluator() is evaluator
