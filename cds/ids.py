"""Random UUIDs (version 4) from pooled operating-system randomness.

uuid.uuid4() asks the kernel for 16 bytes every time; a hook answer needs one per card and per
suggestion, and on sandboxed kernels each of those system calls costs tens of microseconds. Here
one call fills a pool for 256 identifiers: the same source (os.urandom), the same randomness,
refilled in a forked child rather than shared with the parent.
"""

from __future__ import annotations

import os
import threading
import uuid

_POOL_IDS = 256
_lock = threading.Lock()
_pool = b""
_offset = 0
_pid = 0


def uuid4() -> uuid.UUID:
    """A random UUID, as uuid.uuid4() gives."""
    global _pool, _offset, _pid
    with _lock:
        if _offset >= len(_pool) or _pid != os.getpid():
            _pool, _offset, _pid = os.urandom(16 * _POOL_IDS), 0, os.getpid()
        raw = _pool[_offset:_offset + 16]
        _offset += 16
    return uuid.UUID(bytes=raw, version=4)
