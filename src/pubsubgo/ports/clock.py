"""The Clock port: the one source of "now" for every timing rule."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol


class Timer(Protocol):
    """A callback scheduled by :meth:`Clock.call_later`."""

    def cancel(self) -> None:
        """Do not run the callback (nothing happens if it already ran)."""
        ...


class Clock(Protocol):
    """Tells the time. Services read no other clock, so tests can move time by hand."""

    def now(self) -> float:
        """Seconds since the epoch, as a float: what timing rules (deadlines, backoff, TTL,
        heartbeats) are measured in."""
        ...

    def monotonic(self) -> float:
        """Seconds from an arbitrary start that never go back: what waits and latencies are
        measured in."""
        ...

    def call_later(self, delay: float, callback: Callable[[], None]) -> Timer:
        """Run ``callback`` on the running event loop once ``delay`` seconds of the
        monotonic clock have passed (a hand-driven clock also runs it when moved past)."""
        ...
