"""The InFlightLedger port: deliveries awaiting their acknowledgement."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pubsubgo.core.messages import AckId
from pubsubgo.core.subscriptions import InFlight, Release, SettleResult


class InFlightLedger(Protocol):
    """Settles, extends and releases in-flight deliveries. Unknown ack ids are never errors."""

    async def settle(
        self, subscription: str, ack_ids: Sequence[AckId], now: float, force: bool = False
    ) -> SettleResult:
        """Acknowledge deliveries: they are done for this subscription.

        Idempotent per ack id: the second ack of one reports it ``unknown``. An exactly-once
        delivery whose deadline has passed is refused (reported ``unknown``) and stays due for
        redelivery, unless ``force`` (the broker settling it itself, e.g. dead-lettering).
        Settling a keyed message of an ordered subscription lets the key's next message go.
        """
        ...

    async def lookup(self, subscription: str, ack_ids: Sequence[AckId]) -> list[InFlight]:
        """The in-flight deliveries among ``ack_ids``."""
        ...

    async def overdue(self, subscription: str, now: float, limit: int) -> list[InFlight]:
        """Up to ``limit`` deliveries whose deadline is before ``now``, earliest first."""
        ...

    async def held(
        self, subscription: str, member_id: str | None, partitions: Sequence[int] | None = None
    ) -> list[InFlight]:
        """Deliveries held by ``member_id``, or (``member_id`` None) those in ``partitions``."""
        ...

    async def release(self, subscription: str, releases: Sequence[Release]) -> list[AckId]:
        """Return deliveries to the queue, due at their ``due_at``; returns those released.

        A released delivery's ack id stops working; its next delivery counts one more attempt.
        Ack ids no longer in flight are skipped, so a release racing an ack loses nothing.
        """
        ...

    async def extend(
        self, subscription: str, ack_ids: Sequence[AckId], deadline: float
    ) -> list[AckId]:
        """Move the deadline of in-flight deliveries; returns the ack ids not in flight."""
        ...
