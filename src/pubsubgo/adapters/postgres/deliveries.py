"""PostgresDeliveryQueue: claims, redelivers and repositions a subscription's messages."""

from __future__ import annotations

from collections.abc import Sequence

from pubsubgo.adapters.postgres.codec import deliveries_from_rows, split_message_id
from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.postgres.definitions import Definitions
from pubsubgo.adapters.postgres.errors import MEMBER_NOT_FOUND, Refusal
from pubsubgo.core.errors import MemberNotFound, PubSubError, SubscriptionNotFound
from pubsubgo.core.messages import Delivery, MessageId
from pubsubgo.core.subscriptions import (
    Redelivery,
    StartPosition,
    Subscription,
    SubscriptionStats,
)
from pubsubgo.core.topics import Topic
from pubsubgo.ports.deliveries import SeekTarget

#: Deliveries of one claim are numbered under one ack number (see psg_claim): at most
#: this many per claim.
MAX_CLAIM = 4096


class PostgresDeliveryQueue:
    """DeliveryQueue on PostgreSQL: a claim is one call of ``psg_claim`` (one round trip and
    one transaction), whatever the number of partitions and messages."""

    def __init__(self, db: Database, definitions: Definitions) -> None:
        self._db = db
        self._definitions = definitions

    async def claim(
        self,
        subscription: Subscription,
        topic: Topic,
        partitions: Sequence[int],
        limit: int,
        now: float,
        member_id: str | None,
    ) -> list[Delivery]:
        if not partitions or limit <= 0:
            return []
        rows = await self._db.fetch(
            "pull",
            "SELECT * FROM psg_claim($1, $2, $3, $4, $5)",
            subscription.name,
            list(partitions),
            min(limit, MAX_CLAIM),
            now,
            member_id or "",
            refusal=self._refusal(subscription.name, member_id),
        )
        deadline = now + subscription.ack_deadline_seconds
        return deliveries_from_rows(topic.name, subscription.name, deadline, rows)

    async def redeliver(
        self, subscription: Subscription, entries: Sequence[Redelivery]
    ) -> list[MessageId]:
        parts: list[int] = []
        positions: list[int] = []
        due: list[float] = []
        attempts: list[int] = []
        for entry in entries:
            parsed = split_message_id(entry.message_id)
            if parsed is not None:
                parts.append(parsed[0])
                positions.append(parsed[1])
                due.append(entry.due_at)
                attempts.append(entry.attempts)
        rows = await self._db.fetch(
            "redeliver",
            "SELECT * FROM psg_redeliver($1, $2, $3, $4, $5)",
            subscription.name,
            parts,
            positions,
            due,
            attempts,
            refusal=self._refusal(subscription.name, None),
        )
        return [MessageId(f"{p}-{s}") for p, s in rows]

    async def seek(self, subscription: Subscription, target: SeekTarget) -> None:
        if target.timestamp is not None:
            where, stamp = "timestamp", target.timestamp
        else:
            where, stamp = (target.position or StartPosition.LATEST).value, 0.0
        await self._db.fetch(
            "seek",
            "SELECT psg_seek($1, $2, $3)",
            subscription.name,
            where,
            stamp,
            refusal=self._refusal(subscription.name, None),
        )

    async def stats(self, subscription: Subscription, now: float) -> SubscriptionStats:
        [(unread, scheduled, in_flight, oldest)] = await self._db.fetch(
            "subscription stats",
            "SELECT * FROM psg_sub_stats($1)",
            subscription.name,
            refusal=self._refusal(subscription.name, None),
        )
        return SubscriptionStats(
            backlog=unread + scheduled + in_flight,
            in_flight=in_flight,
            scheduled=scheduled,
            oldest_unacked_age_seconds=max(0.0, now - oldest) if oldest is not None else 0.0,
        )

    def _refusal(self, subscription: str, member_id: str | None) -> Refusal:
        def refused(code: str) -> PubSubError:
            if code == MEMBER_NOT_FOUND and member_id is not None:
                return MemberNotFound(subscription, member_id)
            self._definitions.forget_subscription(subscription)
            return SubscriptionNotFound(subscription)

        return refused
