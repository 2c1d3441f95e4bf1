"""SqliteTopicRegistry: topic rows, each with a row of counters per partition."""

from __future__ import annotations

import functools

import orjson

from pubsubgo.adapters.records import topic_fields, topic_from_fields
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.definitions import topic_entry
from pubsubgo.adapters.sqlite.writer import SqliteWriter
from pubsubgo.core.errors import TopicAlreadyExists
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.topics import Topic


class SqliteTopicRegistry:
    """TopicRegistry on SQLite; ``get`` is answered from the definitions cache when it can."""

    def __init__(self, writer: SqliteWriter, database: Database) -> None:
        self._writer = writer
        self._database = database

    async def create(self, topic: Topic) -> None:
        await self._writer.run(functools.partial(_create, topic=topic))

    async def get(self, name: str) -> Topic:
        entry = self._database.topics.get(name)
        if entry is None:
            entry = await self._writer.run(functools.partial(topic_entry, name=name))
        return entry[1]

    async def list(self, page: NamePage = EVERY_NAME) -> list[Topic]:
        return await self._writer.run(functools.partial(_list, page=page))

    async def update(self, topic: Topic) -> None:
        await self._writer.run(functools.partial(_update, topic=topic))

    async def delete(self, name: str) -> None:
        await self._writer.run(functools.partial(_delete, name=name))


def _create(db: Database, topic: Topic) -> None:
    connection = db.connection
    if connection.execute("SELECT 1 FROM topics WHERE name = ?", (topic.name,)).fetchone():
        raise TopicAlreadyExists(topic.name)
    cursor = connection.execute(
        "INSERT INTO topics (name, definition) VALUES (?, ?)",
        (topic.name, orjson.dumps(topic_fields(topic))),
    )
    topic_id = cursor.lastrowid
    assert topic_id is not None
    connection.executemany(
        "INSERT INTO partitions (topic_id, partition) VALUES (?, ?)",
        [(topic_id, p) for p in range(topic.partitions)],
    )
    db.topics[topic.name] = (topic_id, topic)


def _list(db: Database, page: NamePage) -> list[Topic]:
    rows = db.connection.execute(
        "SELECT definition FROM topics WHERE substr(name, 1, length(?1)) = ?1 AND name > ?2"
        " ORDER BY name LIMIT ?3",
        (page.prefix, page.after, -1 if page.limit is None else page.limit),
    )
    return [topic_from_fields(orjson.loads(raw)) for (raw,) in rows]


def _update(db: Database, topic: Topic) -> None:
    topic_id, _ = topic_entry(db, topic.name)
    db.connection.execute(
        "UPDATE topics SET definition = ? WHERE id = ?",
        (orjson.dumps(topic_fields(topic)), topic_id),
    )
    db.topics[topic.name] = (topic_id, topic)


def _delete(db: Database, name: str) -> None:
    """The topic with its messages, dedup records and counters (its subscriptions are
    deleted first, by the caller)."""
    topic_id, _ = topic_entry(db, name)
    db.keep_seq_high()
    for table in ("messages", "dedup", "partitions"):
        db.connection.execute(f"DELETE FROM {table} WHERE topic_id = ?", (topic_id,))
    db.connection.execute("DELETE FROM topics WHERE id = ?", (topic_id,))
    del db.topics[name]
