"""The Clock port: the one source of "now" for every timing rule."""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    """Tells the time. Services never call ``time.time()``, so tests can move time by hand."""

    def now(self) -> float:
        """Seconds since the epoch, as a float."""
        ...
