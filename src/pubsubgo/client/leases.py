"""LeaseKeeper: extends the ack deadline of messages a consumer still holds."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

#: Extend when this fraction of the ack deadline has passed: halfway leaves the other half
#: for the extend frame to arrive, even with a 1-second deadline on a slow link.
EXTEND_AT_FRACTION = 0.5
#: By default a message is extended for at most an hour: a handler stuck longer than that
#: lets the message go to another consumer rather than hold it forever.
DEFAULT_MAX_LEASE_SECONDS = 3600.0

#: Sends an extend for the ack ids and returns those the broker no longer holds.
Extend = Callable[[Sequence[str]], Awaitable[Sequence[str]]]


@dataclass(slots=True)
class _Lease:
    started: float
    due: float


class LeaseKeeper:
    """Keeps held messages from their deadline by extending them in time.

    Each held ack id is extended every ``deadline_seconds * EXTEND_AT_FRACTION`` until it
    is released, the broker no longer knows it, or it has been held ``max_lease_seconds``.

    Args:
        extend: sends one extend frame for many ack ids.
        deadline_seconds: the subscription's ack deadline (what one extend grants).
        max_lease_seconds: stop extending a message after this long.
    """

    def __init__(
        self,
        extend: Extend,
        deadline_seconds: float,
        max_lease_seconds: float = DEFAULT_MAX_LEASE_SECONDS,
    ) -> None:
        self._extend = extend
        self._period = deadline_seconds * EXTEND_AT_FRACTION
        self._max_lease = max_lease_seconds
        self._leases: dict[str, _Lease] = {}
        self._changed = asyncio.Event()

    def hold(self, ack_id: str) -> None:
        """Start extending ``ack_id`` (just received)."""
        now = _now()
        self._leases[ack_id] = _Lease(started=now, due=now + self._period)
        self._changed.set()

    def release(self, ack_id: str) -> None:
        """Stop extending ``ack_id`` (acked or nacked)."""
        self._leases.pop(ack_id, None)

    def clear(self) -> None:
        """Forget every lease (the connection that delivered them is gone)."""
        self._leases.clear()

    async def run(self) -> None:
        """Extend leases as they fall due, until cancelled."""
        while True:
            await self._wait_for_next()
            due = self._take_due()
            if due:
                await self._extend_all(due)

    async def _wait_for_next(self) -> None:
        self._changed.clear()
        if not self._leases:
            await self._changed.wait()
            return
        delay = min(lease.due for lease in self._leases.values()) - _now()
        if delay > 0:
            try:
                async with asyncio.timeout(delay):
                    await self._changed.wait()
            except TimeoutError:
                pass  # the earliest lease is due

    def _take_due(self) -> list[str]:
        """The ack ids due now; leases held too long are dropped instead."""
        now = _now()
        due: list[str] = []
        for ack_id, lease in list(self._leases.items()):
            if now - lease.started >= self._max_lease:
                logger.warning("stopped extending %s after %.0f s", ack_id, self._max_lease)
                del self._leases[ack_id]
            elif lease.due <= now:
                lease.due = now + self._period
                due.append(ack_id)
        return due

    async def _extend_all(self, ack_ids: list[str]) -> None:
        try:
            unknown = await self._extend(ack_ids)
        except Exception as error:  # the connection dropped: its messages are redelivered
            logger.debug("extending %d messages failed: %r", len(ack_ids), error)
            return
        for ack_id in unknown:
            self._leases.pop(ack_id, None)


def _now() -> float:
    return asyncio.get_running_loop().time()
