"""PostgresTopicRegistry: topic rows, with a counter row per partition."""

from __future__ import annotations

import orjson

from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.postgres.definitions import Definitions, topic_from_record
from pubsubgo.adapters.records import topic_fields
from pubsubgo.core.errors import TopicAlreadyExists, TopicNotFound
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.topics import Overflow, Topic

#: A page of topic names: by code point (collation "C"), whatever the database's collation.
_LIST = """
SELECT record FROM topics
 WHERE starts_with(name, $1) AND name COLLATE "C" > $2
 ORDER BY name COLLATE "C" LIMIT $3
"""


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

    async def list(self, page: NamePage = EVERY_NAME) -> list[Topic]:
        rows = await self._db.fetch("list topics", _LIST, page.prefix, page.after, page.limit)
        return [topic_from_record(row[0]) for row in rows]

    async def update(self, topic: Topic) -> None:
        updated = await self._db.fetchval(
            "update topic",
            "UPDATE topics SET max_messages = $2, drop_oldest = $3, dedup_window = $4,"
            " record = $5 WHERE name = $1 RETURNING true",
            topic.name,
            topic.max_messages,
            topic.overflow is Overflow.DROP_OLDEST,
            float(topic.dedup_window_seconds),
            orjson.dumps(topic_fields(topic)),
        )
        if not updated:
            self._definitions.forget_topic(topic.name)
            raise TopicNotFound(topic.name)
        self._definitions.remember_topic(topic)

    async def delete(self, name: str) -> None:
        self._definitions.forget_topic(name)
        if not await self._db.fetchval("delete topic", "SELECT psg_topic_delete($1)", name):
            raise TopicNotFound(name)
