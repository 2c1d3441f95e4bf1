"""MemoryReturn: gives the C heap's free memory back to the system after sockets close."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import gc
import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

#: Sockets that closed since the last return before one is worth it.
RETURN_AFTER_CLOSED = 256
#: A return waits for closes to stop for this long, so that a wave of closes makes one.
QUIET_SECONDS = 1.0


def _malloc_trim() -> Callable[[], None] | None:
    """glibc's ``malloc_trim(0)``, or None where the C library has none (musl, macOS)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    trim = getattr(ctypes.CDLL(name), "malloc_trim", None)
    if trim is None:
        return None
    return lambda: trim(0) and None


class MemoryReturn:
    """Counts closed sockets; after a wave of them (RETURN_AFTER_CLOSED, then quiet for
    QUIET_SECONDS) collects their garbage and hands the memory the allocator keeps free
    back to the system. Socket
    buffers are freed when a socket closes, but glibc keeps freed memory for reuse, so
    without this the broker's RSS stays at its peak after thousands of sockets leave."""

    def __init__(self) -> None:
        self._trim = _malloc_trim()
        self._closed = 0
        self._timer: asyncio.TimerHandle | None = None

    def closed(self) -> None:
        """A socket closed."""
        if self._trim is None:
            return
        self._closed += 1
        if self._closed < RETURN_AFTER_CLOSED:
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(QUIET_SECONDS, self._give_back)

    def _give_back(self) -> None:
        self._timer = None
        self._closed = 0
        # Closed sockets leave reference cycles (tasks, futures, protocols) that only a
        # full collection frees; collected first, their memory can go back too.
        gc.collect()
        if self._trim is not None:
            self._trim()
            logger.debug("returned free heap memory after sockets closed")
