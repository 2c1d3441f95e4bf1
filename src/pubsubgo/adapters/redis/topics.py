"""RedisTopicRegistry: topic records in the registry hash, partitions in their slot groups."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Callable

from redis.exceptions import RedisError

from pubsubgo.adapters.redis import keys
from pubsubgo.adapters.redis.codec import text, topic_from_record, topic_record
from pubsubgo.adapters.redis.definitions import Definitions
from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.adapters.redis.layout import Layout
from pubsubgo.adapters.redis.scripts import Call, RedisClient, ScriptRunner
from pubsubgo.core.errors import InvalidSetting, TopicAlreadyExists, TopicNotFound
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.topics import Topic

#: Ack id counters start at a random number below this (2**40), far below 2**53 where
#: Lua's doubles would stop counting exactly.
ACK_START_BOUND = 2**40


class RedisTopicRegistry:
    """TopicRegistry on Redis.

    The record goes in first (HSETNX decides who created the topic), then each slot group
    gets its empty partitions. A topic lives on one shard (co-located) when the client is a
    single node or the topic is bounded, since ``max_messages`` spans all its partitions;
    otherwise each partition has its own hash tag and the partitions spread over the shards.
    """

    def __init__(self, runner: ScriptRunner, definitions: Definitions) -> None:
        self._runner = runner
        self._definitions = definitions

    async def create(self, topic: Topic) -> None:
        colocated = not self._runner.cluster or topic.is_bounded
        with translate_redis_errors("create topic"):
            created = await self._runner.client.hsetnx(
                keys.topics(), topic.name, topic_record(topic, colocated)
            )
            if not created:
                raise TopicAlreadyExists(topic.name)
            _, layout = self._definitions.remember_topic(topic, colocated)
            try:
                await self._runner.run("topic_init", _init_calls(layout))
            except RedisError:
                # Undo the registration, so that a retry can create the topic again.
                self._definitions.forget_topic(topic.name)
                with contextlib.suppress(RedisError):
                    await self._runner.client.hdel(keys.topics(), topic.name)
                raise

    async def get(self, name: str) -> Topic:
        topic, _ = await self._definitions.topic(name)
        return topic

    async def list(self, page: NamePage = EVERY_NAME) -> list[Topic]:
        with translate_redis_errors("list topics"):
            records = await page_of_records(self._runner.client, keys.topics(), page)
        return [topic_from_record(raw)[0] for raw in records]

    async def update(self, topic: Topic) -> None:
        _, layout = await self._definitions.topic(topic.name)
        if topic.is_bounded and len(layout.all_groups()) > 1:
            # max_messages spans the partitions, which one script can only see together.
            raise InvalidSetting(
                "max_messages needs a topic created bounded on a cluster (its partitions on"
                " one shard); this one's are spread: create a new topic",
                field="max_messages",
            )
        record = topic_record(topic, layout.colocated)
        with translate_redis_errors("update topic"):
            [updated] = await self._runner.run(
                "topic_update", [([keys.topics()], [topic.name, record])]
            )
        if not updated:
            self._definitions.forget_topic(topic.name)
            raise TopicNotFound(topic.name)
        self._definitions.remember_topic(topic, layout.colocated)

    async def delete(self, name: str) -> None:
        _, layout = await self._definitions.topic(name)
        self._definitions.forget_topic(name)
        with translate_redis_errors("delete topic"):
            if not await self._runner.client.hdel(keys.topics(), name):
                raise TopicNotFound(name)
            pipe = self._runner.client.pipeline(transaction=False)
            for group, partitions in layout.all_groups().items():
                prefix = layout.prefix(group)
                doomed = [
                    keys.dedup(prefix, group),
                    keys.dedup_expiry(prefix, group),
                    keys.bounds(prefix, group),
                ]
                for partition in partitions:
                    doomed += layout.partition_keys(partition)
                pipe.delete(*doomed)
            await pipe.execute()


async def page_of_records(
    client: RedisClient, registry: str, page: NamePage, keep: Callable[[bytes], bool] = bool
) -> list[bytes]:
    """The records of a registry hash whose names are in ``page``, in name order, that
    ``keep`` takes.

    The names alone are read and sorted (HKEYS), then only the records of the page (HMGET,
    in slices when ``keep`` may pass some over), so a page costs the page's records.
    """
    names = sorted(filter(page.takes, map(text, await client.hkeys(registry))))
    limit = page.limit
    found: list[bytes] = []
    step = limit or len(names) or 1
    for start in range(0, len(names), step):
        records = await client.hmget(registry, names[start : start + step])
        found += (raw for raw in records if isinstance(raw, bytes) and keep(raw))
        if limit is not None and len(found) >= limit:
            return found[:limit]
    return found


def _init_calls(layout: Layout) -> list[Call]:
    calls: list[Call] = []
    for group, partitions in layout.all_groups().items():
        ack_start = secrets.randbelow(ACK_START_BOUND)
        args = [layout.prefix(group), str(group), str(ack_start), *map(str, partitions)]
        calls.append(([layout.anchor(group)], args))
    return calls
