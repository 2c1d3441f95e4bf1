"""RedisSubscriptionRegistry: subscription records, and their state in each slot group."""

from __future__ import annotations

import contextlib

import orjson
from redis.exceptions import RedisError

from pubsubgo.adapters.redis import keys
from pubsubgo.adapters.redis.codec import subscription_from_record, subscription_record
from pubsubgo.adapters.redis.definitions import Definitions
from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.adapters.redis.layout import Layout
from pubsubgo.adapters.redis.scripts import Call, ScriptRunner
from pubsubgo.adapters.redis.topics import page_of_records
from pubsubgo.core.errors import (
    InvalidSetting,
    SubscriptionAlreadyExists,
    SubscriptionNotFound,
    TopicNotFound,
)
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.subscriptions import Subscription


class RedisSubscriptionRegistry:
    """SubscriptionRegistry on Redis.

    The record is registered first, atomically with the check that its topic exists; then
    each slot group gets the subscription's read positions (``position.lua``). Delete does
    the reverse: the record and group go first, so the subscription is gone for everyone at
    once, then its state in the slot groups is removed.
    """

    def __init__(self, runner: ScriptRunner, definitions: Definitions) -> None:
        self._runner = runner
        self._definitions = definitions

    async def create(self, subscription: Subscription) -> None:
        topic, layout = await self._definitions.topic(subscription.topic)
        if subscription.max_backlog and len(layout.all_groups()) > 1:
            # A publish checks the bound in one script, which must see every partition.
            raise InvalidSetting(
                "max_backlog needs its topic's partitions on one shard (a topic created"
                " bounded, with max_messages, on a cluster); this topic's are spread",
                field="max_backlog",
            )
        with translate_redis_errors("create subscription"):
            [outcome] = await self._runner.run(
                "sub_create",
                [
                    (
                        [
                            keys.topics(),
                            keys.subscriptions(),
                            keys.group(subscription.name),
                            keys.group_members(subscription.name),
                        ],
                        [topic.name, subscription.name, subscription_record(subscription)],
                    )
                ],
            )
            if outcome == b"NOTOPIC":
                self._definitions.forget_topic(topic.name)
                raise TopicNotFound(topic.name)
            if outcome == b"EXISTS":
                raise SubscriptionAlreadyExists(subscription.name)
            calls = position_calls(
                layout,
                subscription.name,
                "1",
                subscription.start.value,
                0.0,
                backlog_bound(subscription),
            )
            try:
                await self._runner.run("position", calls)
            except RedisError:
                # Undo the registration, so that a retry can create the subscription again.
                with contextlib.suppress(RedisError):
                    await self._runner.run("sub_delete", [_delete_call(subscription.name)])
                raise
            self._definitions.remember_subscription(subscription, layout)

    async def get(self, name: str) -> Subscription:
        subscription, _ = await self._definitions.subscription(name)
        return subscription

    async def list(
        self, topic: str | None = None, page: NamePage = EVERY_NAME
    ) -> list[Subscription]:
        wanted = None if topic is None else orjson.dumps(topic)

        def of_topic(raw: bytes) -> bool:
            # Most records are not of the topic: look for its name before decoding them.
            return wanted is None or (
                wanted in raw and subscription_from_record(raw).topic == topic
            )

        with translate_redis_errors("list subscriptions"):
            records = await page_of_records(
                self._runner.client, keys.subscriptions(), page, of_topic
            )
        return [subscription_from_record(raw) for raw in records]

    async def delete(self, name: str) -> None:
        self._definitions.forget_subscription(name)
        with translate_redis_errors("delete subscription"):
            [raw] = await self._runner.run("sub_delete", [_delete_call(name)])
        if raw is None:
            raise SubscriptionNotFound(name)
        try:
            _, layout = await self._definitions.topic(subscription_from_record(raw).topic)
        except TopicNotFound:
            return  # The topic's keys, and with them this state, are already gone.
        with translate_redis_errors("delete subscription"):
            pipe = self._runner.client.pipeline(transaction=False)
            for group, partitions in layout.all_groups().items():
                pipe.delete(*layout.subscription_keys(name, group, partitions))
                pipe.hdel(keys.bounds(layout.prefix(group), group), name)
            await pipe.execute()


def backlog_bound(subscription: Subscription) -> str:
    """What ``append.lua`` reads of a bounded subscription: ``"<max_backlog> <overflow>"``
    ('' for an unbounded one)."""
    if not subscription.max_backlog:
        return ""
    return f"{subscription.max_backlog} {subscription.overflow.value}"


def _delete_call(name: str) -> Call:
    return [keys.subscriptions(), keys.group(name), keys.group_members(name)], [name]


def position_calls(
    layout: Layout,
    subscription: str,
    create: str,
    target: str,
    timestamp: float,
    bound: str = "",
) -> list[Call]:
    """One ``position.lua`` call per slot group of the topic (``bound``: see
    :func:`backlog_bound`)."""
    return [
        (
            [layout.anchor(group)],
            [
                layout.prefix(group),
                subscription,
                str(group),
                create,
                target,
                repr(timestamp),
                bound,
                *map(str, partitions),
            ],
        )
        for group, partitions in layout.all_groups().items()
    ]
