"""PostgresTopicRegistry: topic rows, with a counter row per partition."""

from __future__ import annotations

import orjson

from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.postgres.definitions import Definitions, topic_from_record
from pubsubgo.adapters.records import topic_fields
from pubsubgo.core.errors import TopicAlreadyExists, TopicNotFound
from pubsubgo.core.topics import Overflow, Topic


class PostgresTopicRegistry:
    """TopicRegistry on PostgreSQL: ``psg_topic_create`` and ``psg_topic_delete`` each do
    their work in one transaction."""

    def __init__(self, db: Database, definitions: Definitions) -> None:
        self._db = db
        self._definitions = definitions

    async def create(self, topic: Topic) -> None:
        created = await self._db.fetchval(
            "create topic",
            "SELECT psg_topic_create($1, $2, $3, $4, $5, $6)",
            topic.name,
            topic.partitions,
            topic.max_messages,
            topic.overflow is Overflow.DROP_OLDEST,
            float(topic.dedup_window_seconds),
            orjson.dumps(topic_fields(topic)),
        )
        if not created:
            raise TopicAlreadyExists(topic.name)
        self._definitions.remember_topic(topic)

    async def get(self, name: str) -> Topic:
        return await self._definitions.topic(name)

    async def list(self) -> list[Topic]:
        rows = await self._db.fetch("list topics", "SELECT record FROM topics ORDER BY name")
        return [topic_from_record(row[0]) for row in rows]

    async def delete(self, name: str) -> None:
        self._definitions.forget_topic(name)
        if not await self._db.fetchval("delete topic", "SELECT psg_topic_delete($1)", name):
            raise TopicNotFound(name)
