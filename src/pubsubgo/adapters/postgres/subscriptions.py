"""PostgresSubscriptionRegistry: subscription rows with a read position per partition."""

from __future__ import annotations

from pubsubgo.adapters.postgres.backlog import BacklogBounds
from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.postgres.definitions import Definitions
from pubsubgo.adapters.records import subscription_from_record, subscription_record
from pubsubgo.core.errors import SubscriptionAlreadyExists, SubscriptionNotFound, TopicNotFound
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.subscriptions import Subscription

#: A page of subscription names (of topic ``$1`` unless null), by code point.
_LIST = """
SELECT s.record FROM subscriptions s JOIN topics t ON t.id = s.topic_id
 WHERE ($1::text IS NULL OR t.name = $1) AND starts_with(s.name, $2)
   AND s.name COLLATE "C" > $3
 ORDER BY s.name COLLATE "C" LIMIT $4
"""


class PostgresSubscriptionRegistry:
    """SubscriptionRegistry on PostgreSQL: ``psg_sub_create`` registers a subscription with
    its positions in one transaction, ``psg_sub_delete`` removes it with everything it had
    in flight or queued."""

    def __init__(self, db: Database, definitions: Definitions, bounds: BacklogBounds) -> None:
        self._db = db
        self._definitions = definitions
        self._bounds = bounds

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
        if subscription.max_backlog:
            self._bounds.forget(subscription.topic)

    async def get(self, name: str) -> Subscription:
        return await self._definitions.subscription(name)

    async def list(
        self, topic: str | None = None, page: NamePage = EVERY_NAME
    ) -> list[Subscription]:
        rows = await self._db.fetch(
            "list subscriptions", _LIST, topic, page.prefix, page.after, page.limit
        )
        return [subscription_from_record(row[0]) for row in rows]

    async def delete(self, name: str) -> None:
        self._definitions.forget_subscription(name)
        raw = await self._db.fetchval("delete subscription", "SELECT psg_sub_delete($1)", name)
        if raw is None:
            raise SubscriptionNotFound(name)
        self._bounds.forget(subscription_from_record(raw).topic)
