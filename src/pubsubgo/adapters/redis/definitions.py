"""Definitions: topic and subscription records, cached for a short time in each process.

A subscription never changes once created, and a topic changes only its settings (never its
partitions); either can be deleted (and a new one created under the same name). So a
process may keep what it read for ``ttl`` seconds: an update made by another process is seen
here within that time (the process that made it sees it at once), and the
scripts check on every data operation that the partitions or the subscription state still
exist, so a definition deleted by another process is noticed at once where it matters
(publishes fail with TopicNotFound, pulls with SubscriptionNotFound) and the cached entry is
dropped. What the cache may show for up to ``ttl`` after another process deleted something
is its definition on a ``get``.
"""

from __future__ import annotations

import time

from pubsubgo.adapters.redis import keys
from pubsubgo.adapters.redis.codec import subscription_from_record, topic_from_record
from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.adapters.redis.layout import Layout
from pubsubgo.adapters.redis.scripts import ScriptRunner
from pubsubgo.core.errors import SubscriptionNotFound, TopicNotFound
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Topic

#: A cached definition: when it stops being trusted (monotonic clock), and what it is.
_TopicEntry = tuple[float, tuple[Topic, Layout]]
_SubscriptionEntry = tuple[float, tuple[Subscription, Layout]]


class Definitions:
    """Reads topic and subscription records through a small time-limited cache.

    Args:
        runner: runs the backend's scripts.
        ttl: seconds a read definition is reused; 0 reads Redis every time.
    """

    def __init__(self, runner: ScriptRunner, ttl: float) -> None:
        self._runner = runner
        self._ttl = ttl
        self._topics: dict[str, _TopicEntry] = {}
        self._subscriptions: dict[str, _SubscriptionEntry] = {}

    async def topic(self, name: str) -> tuple[Topic, Layout]:
        """The topic named ``name`` and its layout.

        Raises:
            TopicNotFound: no such topic.
        """
        entry = self._topics.get(name)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        with translate_redis_errors("read topic"):
            raw = await self._runner.client.hget(keys.topics(), name)
        if raw is None:
            self._topics.pop(name, None)
            raise TopicNotFound(name)
        topic, colocated = topic_from_record(raw)
        return self.remember_topic(topic, colocated)

    async def subscription(self, name: str) -> tuple[Subscription, Layout]:
        """The subscription named ``name`` and its topic's layout.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        entry = self._subscriptions.get(name)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1]
        with translate_redis_errors("read subscription"):
            [(sub_raw, topic_raw)] = await self._runner.run(
                "definition", [([keys.subscriptions(), keys.topics()], [name])]
            )
        if sub_raw is None or topic_raw is None:
            # A subscription whose topic is gone is the remains of an interrupted delete.
            self._subscriptions.pop(name, None)
            raise SubscriptionNotFound(name)
        subscription = subscription_from_record(sub_raw)
        topic, colocated = topic_from_record(topic_raw)
        self.remember_topic(topic, colocated)
        return self.remember_subscription(subscription, self.layout(topic, colocated))

    def layout(self, topic: Topic, colocated: bool) -> Layout:
        return Layout(topic.name, topic.partitions, colocated)

    def remember_topic(self, topic: Topic, colocated: bool) -> tuple[Topic, Layout]:
        value = (topic, self.layout(topic, colocated))
        self._topics[topic.name] = (time.monotonic() + self._ttl, value)
        return value

    def remember_subscription(
        self, subscription: Subscription, layout: Layout
    ) -> tuple[Subscription, Layout]:
        value = (subscription, layout)
        self._subscriptions[subscription.name] = (time.monotonic() + self._ttl, value)
        return value

    def forget_topic(self, name: str) -> None:
        self._topics.pop(name, None)

    def forget_subscription(self, name: str) -> None:
        self._subscriptions.pop(name, None)
