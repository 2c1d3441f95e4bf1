"""SqliteDeliveryQueue: claims (claim.py), redeliveries, seeks and backlog statistics."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from pubsubgo.adapters.sqlite.claim import claim_messages
from pubsubgo.adapters.sqlite.codec import MESSAGE_COLUMNS, message_from_row, parse_message_id
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.definitions import subscription_entry
from pubsubgo.adapters.sqlite.ordering import busy_keys, hold_first, mark_busy
from pubsubgo.adapters.sqlite.subscriptions import start_cursor
from pubsubgo.adapters.sqlite.writer import SqliteWriter
from pubsubgo.core.messages import Delivery, MessageId
from pubsubgo.core.subscriptions import (
    Redelivery,
    StartPosition,
    Subscription,
    SubscriptionStats,
)
from pubsubgo.core.topics import Topic
from pubsubgo.ports.deliveries import SeekTarget

#: What a seek drops: everything in flight or waiting for a later delivery.
_DROPPED_BY_SEEK = ("scheduled", "in_flight", "busy_keys", "held")


class SqliteDeliveryQueue:
    """DeliveryQueue on SQLite: a claim is one operation on the writer thread."""

    def __init__(self, writer: SqliteWriter) -> None:
        self._writer = writer

    async def claim(
        self,
        subscription: Subscription,
        topic: Topic,
        partitions: Sequence[int],
        limit: int,
        now: float,
        member_id: str | None,
    ) -> list[Delivery]:
        return await self._writer.run(
            functools.partial(
                claim_messages,
                subscription=subscription,
                topic=topic.name,
                partitions=partitions,
                limit=limit,
                now=now,
                member_id=member_id,
            ),
            durable=False,
        )

    async def redeliver(
        self, subscription: Subscription, entries: Sequence[Redelivery]
    ) -> list[MessageId]:
        return await self._writer.run(
            functools.partial(_redeliver, subscription=subscription.name, entries=entries)
        )

    async def seek(self, subscription: Subscription, target: SeekTarget) -> None:
        await self._writer.run(
            functools.partial(_seek, subscription=subscription.name, target=target)
        )

    async def stats(self, subscription: Subscription, now: float) -> SubscriptionStats:
        return await self._writer.run(
            functools.partial(_stats, subscription=subscription.name, now=now)
        )


def _redeliver(db: Database, subscription: str, entries: Sequence[Redelivery]) -> list[MessageId]:
    sub_id, topic_id, sub = subscription_entry(db, subscription)
    connection = db.connection
    queued: list[MessageId] = []
    for entry in entries:
        parsed = parse_message_id(entry.message_id)
        if parsed is None:
            continue
        partition, seq = parsed
        row = connection.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages"
            " WHERE seq = ? AND topic_id = ? AND partition = ?",
            (seq, topic_id, partition),
        ).fetchone()
        if row is None:
            continue  # no longer stored (retention)
        key = message_from_row(sub.topic, row).key if sub.ordered else None
        if key is not None and key in busy_keys(db, sub_id, partition):
            # The key's current message goes first; this one waits at the head of the line.
            hold_first(db, sub_id, partition, key, seq)
        else:
            if key is not None:
                mark_busy(db, sub_id, partition, key)
            connection.execute(
                "INSERT INTO scheduled (sub_id, partition, seq, due, attempts)"
                " VALUES (?, ?, ?, ?, ?)",
                (sub_id, partition, seq, entry.due_at, entry.attempts),
            )
        queued.append(entry.message_id)
    return queued


def _seek(db: Database, subscription: str, target: SeekTarget) -> None:
    sub_id, topic_id, _ = subscription_entry(db, subscription)
    connection = db.connection
    if target.timestamp is None:
        start = start_cursor(db, target.position or StartPosition.LATEST)
        connection.execute(
            "UPDATE cursors SET c0 = ?, c1 = ?, c2 = ?, c3 = ? WHERE sub_id = ?",
            (start, start, start, start, sub_id),
        )
    else:
        _seek_to_time(db, sub_id, topic_id, target.timestamp)
    for table in _DROPPED_BY_SEEK:
        connection.execute(f"DELETE FROM {table} WHERE sub_id = ?", (sub_id,))
    db.holdings.pop(sub_id, None)


def _seek_to_time(db: Database, sub_id: int, topic_id: int, timestamp: float) -> None:
    """Each lane just before its first message published at or after ``timestamp``, or at
    its end when it has none."""
    end = start_cursor(db, StartPosition.LATEST)
    connection = db.connection
    connection.execute(
        "UPDATE cursors SET c0 = ?, c1 = ?, c2 = ?, c3 = ? WHERE sub_id = ?",
        (end, end, end, end, sub_id),
    )
    firsts = connection.execute(
        "SELECT partition, priority, MIN(seq) FROM messages"
        " WHERE topic_id = ? AND published_at >= ? GROUP BY partition, priority",
        (topic_id, timestamp),
    ).fetchall()
    for partition, rank, first in firsts:
        connection.execute(
            f"UPDATE cursors SET c{rank} = ? WHERE sub_id = ? AND partition = ?",
            (first - 1, sub_id, partition),
        )


def _stats(db: Database, subscription: str, now: float) -> SubscriptionStats:
    sub_id, topic_id, _ = subscription_entry(db, subscription)
    unread, oldest = unread_messages(db, sub_id, topic_id)
    connection = db.connection
    waiting = [
        connection.execute(
            f"SELECT COUNT(*), MIN(m.published_at) FROM {table} x"
            " LEFT JOIN messages m ON m.seq = x.seq WHERE x.sub_id = ?",
            (sub_id,),
        ).fetchone()
        for table in ("scheduled", "held")
    ]
    in_flight, oldest_in_flight = connection.execute(
        "SELECT COUNT(*), MIN(published_at) FROM in_flight WHERE sub_id = ?", (sub_id,)
    ).fetchone()
    scheduled = sum(count for count, _ in waiting)
    stamps = [t for t in (oldest, oldest_in_flight, *(t for _, t in waiting)) if t is not None]
    return SubscriptionStats(
        backlog=unread + scheduled + in_flight,
        in_flight=in_flight,
        scheduled=scheduled,
        oldest_unacked_age_seconds=max(0.0, now - min(stamps)) if stamps else 0.0,
    )


def unread_messages(db: Database, sub_id: int, topic_id: int) -> tuple[int, float | None]:
    """How many messages are past the cursors, and when the oldest of them was published.
    Counting reads the lanes' index entries past each cursor: O(unread), meant for
    describe and the gauges, not for a hot path."""
    connection = db.connection
    count, stamps = 0, []
    cursors = connection.execute(
        "SELECT partition, c0, c1, c2, c3 FROM cursors WHERE sub_id = ?", (sub_id,)
    ).fetchall()
    lane = "FROM messages WHERE topic_id = ? AND partition = ? AND priority = ? AND seq > ?"
    for partition, *after in cursors:
        tails = db.tails(topic_id, partition)
        for rank, cursor in enumerate(after):
            if tails[rank] <= cursor:
                continue
            args = (topic_id, partition, rank, cursor)
            [found] = connection.execute(f"SELECT COUNT(*) {lane}", args).fetchone()
            first = connection.execute(
                f"SELECT published_at {lane} ORDER BY seq LIMIT 1", args
            ).fetchone()
            count += found
            if first is not None:
                stamps.append(first[0])
    return count, min(stamps, default=None)
