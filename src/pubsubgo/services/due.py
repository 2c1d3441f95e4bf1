"""DueTimes: notify a topic when its delayed or retried messages become deliverable."""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterable

from pubsubgo.ports.clock import Clock, Timer

#: Due times are rounded up to this, so that a batch of retries makes one wake-up.
GRAIN_SECONDS = 0.01
#: Distinct due times kept per topic. Beyond them a message is found by the waiters'
#: own rechecks (later, never lost), so that a flood of delays cannot grow this for ever.
MAX_DUE_PER_TOPIC = 1024
#: What a due time concerns: a topic, and one of its subscriptions or all of them (None).
Scope = tuple[str, str | None]
#: A timer that fires this early (the wall and monotonic clocks drift apart) still counts.
EARLY_SECONDS = 0.005


class DueTimes:
    """One timer per topic (or subscription), for its earliest due time; ``notify`` when it
    comes.

    Args:
        clock: what "now" and the timers are measured by.
        notify: tells every process's waiters of the topic.
    """

    def __init__(self, clock: Clock, notify: Callable[[str, str | None], None]) -> None:
        self._clock = clock
        self._notify = notify
        self._due: dict[Scope, list[float]] = {}
        self._timers: dict[Scope, tuple[float, Timer]] = {}

    def add(self, topic: Scope, due: Iterable[float]) -> None:
        """Notify ``topic`` (a topic, and a subscription or None) at each of the times
        ``due`` (at once for those not ahead)."""
        now = self._clock.now()
        times = {math.ceil(t / GRAIN_SECONDS) * GRAIN_SECONDS for t in due}
        if any(t <= now for t in times):
            self._notify(*topic)
        ahead = sorted(t for t in times if t > now)
        if not ahead:
            return
        heap = self._due.setdefault(topic, [])
        known = set(heap)
        for t in ahead:
            if len(heap) >= MAX_DUE_PER_TOPIC:
                break
            if t not in known:
                heapq.heappush(heap, t)
        self._arm(topic)

    def _arm(self, topic: Scope) -> None:
        earliest = self._due[topic][0]
        current = self._timers.get(topic)
        if current is not None:
            if current[0] <= earliest:
                return
            current[1].cancel()
        delay = max(0.0, earliest - self._clock.now())
        timer = self._clock.call_later(delay, lambda: self._fire(topic))
        self._timers[topic] = (earliest, timer)

    def _fire(self, topic: Scope) -> None:
        self._timers.pop(topic, None)
        heap = self._due.get(topic, [])
        reached = self._clock.now() + EARLY_SECONDS
        fired = False
        while heap and heap[0] <= reached:
            heapq.heappop(heap)
            fired = True
        if fired:
            self._notify(*topic)
        if heap:
            self._arm(topic)
        else:
            self._due.pop(topic, None)
