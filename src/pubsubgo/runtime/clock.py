"""Clocks: the system clock for the broker, and a hand-driven one for tests and tools."""

from __future__ import annotations

import time


class SystemClock:
    """Clock that reads the system's wall clock and its monotonic clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """Clock whose wall time moves only when told to, so timing rules can be tested exactly.

    Its monotonic reading runs with real time plus what ``advance`` added: waits (a long
    poll's ``wait_seconds``) still end in real time, and jumping ahead ends them early too.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._advanced = 0.0

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return time.monotonic() + self._advanced

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        self._now += seconds
        self._advanced += seconds
