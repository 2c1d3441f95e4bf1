"""SqliteSubscriptionRegistry: subscription rows with a cursor row per partition."""

from __future__ import annotations

import functools

from pubsubgo.adapters.records import subscription_from_record, subscription_record
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.definitions import subscription_entry, topic_entry
from pubsubgo.adapters.sqlite.writer import SqliteWriter
from pubsubgo.core.errors import SubscriptionAlreadyExists
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.subscriptions import StartPosition, Subscription

#: What a subscription has besides its row, deleted with it.
SUBSCRIPTION_TABLES = ("cursors", "scheduled", "in_flight", "busy_keys", "held", "members")


class SqliteSubscriptionRegistry:
    """SubscriptionRegistry on SQLite; ``get`` is answered from the definitions cache when it
    can."""

    def __init__(self, writer: SqliteWriter, database: Database) -> None:
        self._writer = writer
        self._database = database

    async def create(self, subscription: Subscription) -> None:
        await self._writer.run(functools.partial(_create, subscription=subscription))

    async def get(self, name: str) -> Subscription:
        entry = self._database.subscriptions.get(name)
        if entry is None:
            entry = await self._writer.run(functools.partial(subscription_entry, name=name))
        return entry[2]

    async def list(
        self, topic: str | None = None, page: NamePage = EVERY_NAME
    ) -> list[Subscription]:
        return await self._writer.run(functools.partial(_list, topic=topic, page=page))

    async def delete(self, name: str) -> None:
        await self._writer.run(functools.partial(_delete, name=name))


def start_cursor(db: Database, position: StartPosition) -> int:
    """The cursor of every lane at ``position``: before the first message (earliest) or at
    the newest one handed out (latest), which is past every lane's end."""
    return 0 if position is StartPosition.EARLIEST else db.next_seq - 1


def _create(db: Database, subscription: Subscription) -> None:
    connection = db.connection
    found = connection.execute(
        "SELECT 1 FROM subscriptions WHERE name = ?", (subscription.name,)
    ).fetchone()
    if found:
        raise SubscriptionAlreadyExists(subscription.name)
    topic_id, topic = topic_entry(db, subscription.topic)
    cursor = connection.execute(
        "INSERT INTO subscriptions (name, topic_id, definition) VALUES (?, ?, ?)",
        (subscription.name, topic_id, subscription_record(subscription)),
    )
    sub_id = cursor.lastrowid
    assert sub_id is not None
    start = start_cursor(db, subscription.start)
    connection.executemany(
        "INSERT INTO cursors VALUES (?, ?, ?, ?, ?, ?)",
        [(sub_id, p, start, start, start, start) for p in range(topic.partitions)],
    )
    db.subscriptions[subscription.name] = (sub_id, topic_id, subscription)
    db.bounded.pop(topic_id, None)


def _list(db: Database, topic: str | None, page: NamePage) -> list[Subscription]:
    rows = db.connection.execute(
        "SELECT s.definition FROM subscriptions s JOIN topics t ON t.id = s.topic_id"
        " WHERE (?1 IS NULL OR t.name = ?1) AND substr(s.name, 1, length(?2)) = ?2"
        " AND s.name > ?3 ORDER BY s.name LIMIT ?4",
        (topic, page.prefix, page.after, -1 if page.limit is None else page.limit),
    )
    return [subscription_from_record(raw) for (raw,) in rows]


def _delete(db: Database, name: str) -> None:
    sub_id, topic_id, _ = subscription_entry(db, name)
    db.bounded.pop(topic_id, None)
    for table in SUBSCRIPTION_TABLES:
        db.connection.execute(f"DELETE FROM {table} WHERE sub_id = ?", (sub_id,))
    db.connection.execute("DELETE FROM subscriptions WHERE id = ?", (sub_id,))
    del db.subscriptions[name]
    db.holdings.pop(sub_id, None)
