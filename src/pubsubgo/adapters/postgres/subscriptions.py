"""PostgresSubscriptionRegistry: subscription rows with a read position per partition."""

from __future__ import annotations

from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.postgres.definitions import Definitions
from pubsubgo.adapters.records import subscription_from_record, subscription_record
from pubsubgo.core.errors import SubscriptionAlreadyExists, SubscriptionNotFound, TopicNotFound
from pubsubgo.core.subscriptions import Subscription


class PostgresSubscriptionRegistry:
    """SubscriptionRegistry on PostgreSQL: ``psg_sub_create`` registers a subscription with
    its positions in one transaction, ``psg_sub_delete`` removes it with everything it had
    in flight or queued."""

    def __init__(self, db: Database, definitions: Definitions) -> None:
        self._db = db
        self._definitions = definitions

    async def create(self, subscription: Subscription) -> None:
        outcome = await self._db.fetchval(
            "create subscription",
            "SELECT psg_sub_create($1, $2, $3, $4, $5, $6, $7)",
            subscription.name,
            subscription.topic,
            subscription.ordered,
            float(subscription.ack_deadline_seconds),
            subscription.max_in_flight,
            subscription.start.value,
            subscription_record(subscription),
        )
        if outcome == "NOTOPIC":
            self._definitions.forget_topic(subscription.topic)
            raise TopicNotFound(subscription.topic)
        if outcome == "EXISTS":
            raise SubscriptionAlreadyExists(subscription.name)
        self._definitions.remember_subscription(subscription)

    async def get(self, name: str) -> Subscription:
        return await self._definitions.subscription(name)

    async def list(self, topic: str | None = None) -> list[Subscription]:
        args: tuple[str, ...] = ()
        if topic is None:
            query = "SELECT record FROM subscriptions ORDER BY name"
        else:
            query = (
                "SELECT s.record FROM subscriptions s JOIN topics t ON t.id = s.topic_id"
                " WHERE t.name = $1 ORDER BY s.name"
            )
            args = (topic,)
        rows = await self._db.fetch("list subscriptions", query, *args)
        return [subscription_from_record(row[0]) for row in rows]

    async def delete(self, name: str) -> None:
        self._definitions.forget_subscription(name)
        if (
            await self._db.fetchval("delete subscription", "SELECT psg_sub_delete($1)", name)
            is None
        ):
            raise SubscriptionNotFound(name)
