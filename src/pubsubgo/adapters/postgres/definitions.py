"""Definitions: topic and subscription records, cached for a short time in each process.

A subscription never changes once created, and a topic changes only its settings (never its
partitions; another process sees the change within ``ttl``); either can be deleted (and a
new one created under the same name). Every data operation names them and the functions look them
up by name in the same statement, so nothing a process caches can make one act on a
deleted definition; what the cache may show for up to ``ttl`` after another process
deleted something is its definition on a ``get``.
"""

from __future__ import annotations

import time

import orjson

from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.records import subscription_from_record, topic_from_fields
from pubsubgo.core.errors import SubscriptionNotFound, TopicNotFound
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Topic


class Definitions:
    """Reads topic and subscription records through a small time-limited cache.

    Args:
        db: the backend's database.
        ttl: seconds a read definition is reused; 0 reads PostgreSQL every time.
    """

    def __init__(self, db: Database, ttl: float) -> None:
        self._db = db
        self._ttl = ttl
        self._topics: dict[str, tuple[float, Topic]] = {}
        self._subscriptions: dict[str, tuple[float, Subscription]] = {}

    async def topic(self, name: str) -> Topic:
        """The topic named ``name``.

        Raises:
            TopicNotFound: no such topic.
        """
        entry = self._topics.get(name)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        raw = await self._db.fetchval(
            "read topic", "SELECT record FROM topics WHERE name = $1", name
        )
        if raw is None:
            self.forget_topic(name)
            raise TopicNotFound(name)
        return self.remember_topic(topic_from_record(raw))

    async def subscription(self, name: str) -> Subscription:
        """The subscription named ``name``.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        entry = self._subscriptions.get(name)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        raw = await self._db.fetchval(
            "read subscription", "SELECT record FROM subscriptions WHERE name = $1", name
        )
        if raw is None:
            self.forget_subscription(name)
            raise SubscriptionNotFound(name)
        return self.remember_subscription(subscription_from_record(raw))

    def remember_topic(self, topic: Topic) -> Topic:
        self._topics[topic.name] = (time.monotonic() + self._ttl, topic)
        return topic

    def remember_subscription(self, subscription: Subscription) -> Subscription:
        self._subscriptions[subscription.name] = (time.monotonic() + self._ttl, subscription)
        return subscription

    def forget_topic(self, name: str) -> None:
        self._topics.pop(name, None)

    def forget_subscription(self, name: str) -> None:
        self._subscriptions.pop(name, None)


def topic_from_record(raw: bytes) -> Topic:
    return topic_from_fields(orjson.loads(raw))
