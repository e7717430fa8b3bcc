"""Pooled random UUIDs (cds/ids.py)."""

from __future__ import annotations

import os
import uuid

from cds.ids import uuid4


def test_version_4_and_never_repeated() -> None:
    made = [uuid4() for _ in range(2000)]  # several pool refills
    assert all(isinstance(u, uuid.UUID) and u.version == 4 and u.variant == uuid.RFC_4122 for u in made)
    assert len(set(made)) == len(made)


def test_a_forked_child_does_not_repeat_the_parents_next_ids() -> None:
    uuid4()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: report its next id
        os.write(write, uuid4().bytes)
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 16)
    assert child != uuid4().bytes
