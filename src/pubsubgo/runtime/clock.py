"""Clocks: the system clock for the broker, and a hand-driven one for tests and tools."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from pubsubgo.ports.clock import Timer


class SystemClock:
    """Clock that reads the system's wall clock and its monotonic clock."""

    def now(self) -> float:
        return time.time()

    def monotonic(self) -> float:
        return time.monotonic()

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        return asyncio.get_running_loop().call_later(delay, callback)


class ManualClock:
    """Clock whose wall time moves only when told to, so timing rules can be tested exactly.

    Its monotonic reading runs with real time plus what ``advance`` added: waits (a long
    poll's ``wait_seconds``) still end in real time, and jumping ahead ends them early too.
    Timers (``call_later``) likewise run in real time, or as soon as ``advance`` moves the
    monotonic reading past them.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start
        self._advanced = 0.0
        self._timers: set[_ManualTimer] = set()

    def now(self) -> float:
        return self._now

    def monotonic(self) -> float:
        return time.monotonic() + self._advanced

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        timer = _ManualTimer(self, self.monotonic() + delay, callback)
        timer.handle = asyncio.get_running_loop().call_later(delay, timer.run)
        self._timers.add(timer)
        return timer

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``; timers now due run at once, earliest first."""
        self._now += seconds
        self._advanced += seconds
        reached = self.monotonic()
        for timer in sorted((t for t in self._timers if t.due <= reached), key=_due):
            timer.run()


class _ManualTimer:
    """A ManualClock timer: runs once, by the event loop or by ``advance``."""

    def __init__(self, clock: ManualClock, due: float, callback: Callable[[], None]) -> None:
        self.clock = clock
        self.due = due
        self.callback = callback
        self.handle: asyncio.TimerHandle | None = None

    def run(self) -> None:
        if self in self.clock._timers:
            self.cancel()
            self.callback()

    def cancel(self) -> None:
        self.clock._timers.discard(self)
        if self.handle is not None:
            self.handle.cancel()


def _due(timer: _ManualTimer) -> float:
    return timer.due
