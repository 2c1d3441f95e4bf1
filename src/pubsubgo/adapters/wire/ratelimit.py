"""RateLimiter: a token bucket per client (token name, or address when auth is off)."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

#: Buckets kept at most. Past this the least recently used bucket is dropped, which only
#: forgives that client its debt: memory stays bounded however many addresses call.
MAX_BUCKETS = 100_000


class RateLimiter:
    """Allows each key ``rate`` requests per second on average and ``burst`` at once.

    The limit is per broker process: with N replicas behind a load balancer a client may
    reach N times the rate.

    Args:
        rate: tokens added per second (> 0).
        burst: the bucket's size; 0 means one second's worth (at least 1).
        clock: seconds from a monotonic clock (tests drive it by hand).
        max_buckets: buckets kept before the least recently used is dropped.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 0,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = MAX_BUCKETS,
    ) -> None:
        self.rate = rate
        self.burst = float(burst or max(1, math.ceil(rate)))
        self._clock = clock
        self._max_buckets = max_buckets
        #: key -> (tokens left, when they were counted); most recently used last.
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str) -> float:
        """Spend one token of ``key``'s bucket.

        Returns:
            0.0 when the request may proceed; otherwise the seconds until a token is
            available (nothing was spent).
        """
        now = self._clock()
        tokens, counted = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - counted) * self.rate)
        wait = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            wait = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self._max_buckets:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)
