"""Engines built on first use and kept, once per worker process (never pickled, never shipped).

An Evaluator owns a durable-rules engine (a C ruleset handle): it cannot be pickled, so it is
never sent to a worker; each worker process builds its own, lazily, the first time one of its
tasks needs it, and keeps it for every later task. `once_per_process` does the same for any other
engine a check needs (e.g. `once_per_process(OpioidSafety)`). The lock makes it once even when a
worker runs tasks in several threads (which buys nothing: the engine holds the GIL).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..service import Evaluator

T = TypeVar("T")
_lock = threading.Lock()
_built: dict[Callable[[], Any], Any] = {}


def once_per_process(factory: Callable[[], T]) -> T:
    """`factory()`, called the first time this process asks for it; the same object after that."""
    found = _built.get(factory)
    if found is None:
        with _lock:
            found = _built.get(factory)
            if found is None:
                found = _built[factory] = factory()
    return found


def process_evaluator() -> Evaluator:
    return once_per_process(Evaluator)
