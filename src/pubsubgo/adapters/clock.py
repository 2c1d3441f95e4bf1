"""Clocks: the system clock for the broker, and a hand-driven one for tests and tools."""

from __future__ import annotations

import time


class SystemClock:
    """Clock that reads the system's wall clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """Clock that moves only when told to, so timing rules can be tested exactly."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        self._now += seconds
