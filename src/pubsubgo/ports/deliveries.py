"""The DeliveryQueue port: handing a subscription's messages out to consumers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from pubsubgo.core.messages import Delivery, MessageId
from pubsubgo.core.subscriptions import (
    Redelivery,
    StartPosition,
    Subscription,
    SubscriptionStats,
)
from pubsubgo.core.topics import Topic


@dataclass(frozen=True, slots=True)
class SeekTarget:
    """Where to move a subscription: ``earliest``, ``latest`` or the first message at or
    after ``timestamp``."""

    position: StartPosition | None = None
    timestamp: float | None = None


class DeliveryQueue(Protocol):
    """Claims messages for consumers and repositions subscriptions."""

    async def claim(
        self,
        subscription: Subscription,
        topic: Topic,
        partitions: Sequence[int],
        limit: int,
        now: float,
        member_id: str | None,
    ) -> list[Delivery]:
        """Put up to ``limit`` ready messages of ``partitions`` in flight and return them.

        Order within a partition: first redeliveries due by ``now`` (earliest due first), then
        messages not yet read: by priority (critical first) and in publish order within one,
        except that an ``ordered`` subscription reads strictly in publish order. A message
        whose ``deliver_at`` is after ``now`` is set aside until then. In an ordered
        subscription, a message whose key already has one in flight or awaiting redelivery is
        held back until that one is settled; keys do not wait for each other.

        Each delivery is in flight until ``now + ack_deadline_seconds``, held by ``member_id``,
        with ``delivery_attempt`` one more than the attempts already made. ``member_id`` never holds
        more than ``subscription.max_in_flight`` deliveries (pulls without a member count as
        one consumer). Expired and filtered-out
        messages are returned too; the caller settles them. Never blocks.

        Raises:
            SubscriptionNotFound: the subscription was deleted.
            MemberNotFound: ``member_id`` is given and is not in the subscription's group
                (it left, was evicted, or never joined); nothing is claimed.
        """
        ...

    async def redeliver(
        self, subscription: Subscription, entries: Sequence[Redelivery]
    ) -> list[MessageId]:
        """Queue stored messages for this subscription alone; returns the ids queued.

        Messages no longer stored (removed by retention) are left out.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        ...

    async def seek(self, subscription: Subscription, target: SeekTarget) -> None:
        """Move the read position; drop what was in flight or queued for redelivery.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        ...

    async def stats(self, subscription: Subscription, now: float) -> SubscriptionStats:
        """Backlog, in-flight count and the age of the oldest unacknowledged message.

        Raises:
            SubscriptionNotFound: the subscription was deleted.
        """
        ...
