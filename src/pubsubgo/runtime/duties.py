"""BackgroundRunner: who redelivers overdue messages, evicts silent members and trims
retention — the broker's periodic duties — and keeps push workers and gauges current."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Protocol

from pubsubgo.core.errors import BackendUnavailable
from pubsubgo.services.broker import Broker

logger = logging.getLogger(__name__)


class Reconciler(Protocol):
    """Keeps workers in line with the subscriptions (push delivery)."""

    async def reconcile(self) -> None:
        """Start what is missing and stop what is no longer wanted."""
        ...

    async def aclose(self) -> None:
        """Stop every worker."""
        ...


class Gauges(Protocol):
    """Values read from storage on a timer rather than per scrape."""

    async def refresh(self, broker: Broker) -> None:
        """Read them again."""
        ...


#: After a round of duties fails (storage down), wait this long before the next one instead
#: of the usual interval, so that a failing backend is neither hammered nor the log flooded.
DUTY_ERROR_BACKOFF_SECONDS = 5.0


class BackgroundRunner:
    """Runs ``Broker.run_duties()`` every ``interval`` seconds and keeps push workers running.

    Args:
        broker: the driving API.
        interval_seconds: time between rounds.
        push: the push dispatcher, reconciled after each round (None: no push delivery).
        gauges: storage-read gauges, refreshed every ``gauge_interval_seconds`` (None: off).
    """

    def __init__(
        self,
        broker: Broker,
        interval_seconds: float,
        push: Reconciler | None = None,
        gauges: Gauges | None = None,
        gauge_interval_seconds: float = 5.0,
    ) -> None:
        self._broker = broker
        self._interval = interval_seconds
        self._push = push
        self._gauges = gauges
        self._gauge_interval = gauge_interval_seconds
        self._gauges_read_at = float("-inf")
        self._task: asyncio.Task[None] | None = None
        #: Loop time of the first failed round of the current storage outage (None: none).
        self._outage_since: float | None = None
        self._outage_rounds = 0

    def start(self) -> None:
        """Start the loop in the background."""
        self._task = asyncio.create_task(self._loop(), name="background duties")

    async def aclose(self) -> None:
        """Stop the loop and the push workers, and wait for them."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait({self._task})
            self._task = None
        if self._push is not None:
            await self._push.aclose()

    async def _refresh_gauges(self) -> None:
        # Gauges read every subscription from storage: not every round, every few seconds.
        loop_time = time.monotonic()
        if self._gauges is not None and loop_time - self._gauges_read_at >= self._gauge_interval:
            self._gauges_read_at = loop_time
            await self._gauges.refresh(self._broker)

    async def _loop(self) -> None:
        while True:
            delay = self._interval
            try:
                await self._broker.run_duties()
                if self._push is not None:
                    await self._push.reconcile()
                await self._refresh_gauges()
            except BackendUnavailable as error:
                self._storage_down(error)
                delay = DUTY_ERROR_BACKOFF_SECONDS
            except Exception:
                logger.exception(
                    "background duties failed; next try in %.0f s", DUTY_ERROR_BACKOFF_SECONDS
                )
                delay = DUTY_ERROR_BACKOFF_SECONDS
            else:
                self._storage_back()
            await asyncio.sleep(delay)

    def _storage_down(self, error: BackendUnavailable) -> None:
        """One warning when an outage starts; every failed round, with its traceback, at
        debug: a Redis outage would otherwise print a traceback every few seconds."""
        logger.debug("background duties failed: storage unavailable", exc_info=True)
        self._outage_rounds += 1
        if self._outage_since is None:
            self._outage_since = time.monotonic()
            logger.warning(
                "storage unavailable, background duties paused (retrying every %.0f s): %s",
                DUTY_ERROR_BACKOFF_SECONDS, error,
            )  # fmt: skip

    def _storage_back(self) -> None:
        """One warning when the duties run again after an outage."""
        if self._outage_since is None:
            return
        lasted = time.monotonic() - self._outage_since
        logger.warning(
            "storage available again, background duties resumed after %.1f s (%d failed rounds)",
            lasted, self._outage_rounds,
        )  # fmt: skip
        self._outage_since, self._outage_rounds = None, 0
