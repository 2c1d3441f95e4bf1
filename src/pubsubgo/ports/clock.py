"""The Clock port: the one source of "now" for every timing rule."""

from __future__ import annotations

from typing import Protocol


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
