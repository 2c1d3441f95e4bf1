"""ReconnectPolicy: how a subscription stream retries after losing its connection."""

from __future__ import annotations

import random
from dataclasses import dataclass

#: First wait before reconnecting: short, since a broker that restarts (a rolling update,
#: a crash under a supervisor) is usually back within a second.
INITIAL_RECONNECT_DELAY_SECONDS = 0.1
#: The wait doubles after each failed attempt...
RECONNECT_BACKOFF_MULTIPLIER = 2.0
#: ...up to this, so that a broker down for long is still retried every few seconds.
MAX_RECONNECT_DELAY_SECONDS = 5.0
#: Each wait is drawn between this fraction of the backoff and all of it, so that the many
#: consumers a broker restart disconnects at once do not all come back at the same instant.
RECONNECT_JITTER_FLOOR = 0.5


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """Exponential backoff with jitter between reconnection attempts.

    Attributes:
        initial_delay_seconds: the wait after the first failed attempt.
        max_delay_seconds: the longest wait.
        multiplier: how much the wait grows after each failed attempt.
        give_up_after_seconds: stop retrying (and raise the last error) after this long
            without a connection; None retries until the stream is closed.
    """

    initial_delay_seconds: float = INITIAL_RECONNECT_DELAY_SECONDS
    max_delay_seconds: float = MAX_RECONNECT_DELAY_SECONDS
    multiplier: float = RECONNECT_BACKOFF_MULTIPLIER
    give_up_after_seconds: float | None = None

    def delay(self, failures: int) -> float:
        """Seconds to wait before the next attempt, after ``failures`` failed ones (0: none)."""
        if failures <= 0:
            return 0.0
        backoff = self.initial_delay_seconds * self.multiplier ** (failures - 1)
        capped = min(backoff, self.max_delay_seconds)
        return random.uniform(capped * RECONNECT_JITTER_FLOOR, capped)
