"""SqliteMessageLog: append, read and trim the ``messages`` table."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import cast

import orjson

from pubsubgo.adapters.sqlite.backlog import check_bounds, skip_oldest
from pubsubgo.adapters.sqlite.codec import (
    draft_rows,
    parse_message_id,
)
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.definitions import topic_entry
from pubsubgo.adapters.sqlite.reading import (
    browse_messages,
    fetch_messages,
    partition_summaries,
    topic_stats,
)
from pubsubgo.adapters.sqlite.writer import SqliteWriter
from pubsubgo.core.errors import TopicFull, TopicNotFound
from pubsubgo.core.messages import Message, MessageDraft, MessageId
from pubsubgo.core.topics import Overflow, PartitionSummary, Topic, TopicStats

#: Retention removes at most this many messages of a topic per round of the duties, so a
#: huge expiry does not hold the writer (and every publish) for long; the next round goes on.
TRIM_BATCH = 10_000
_INSERT = "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?)"
#: What a batch added, per partition and lane: (partition, rank, count, bytes, newest seq).
_ADDED = (
    "SELECT partition, priority, COUNT(*), SUM(length(data)), MAX(seq) FROM messages"
    " WHERE seq BETWEEN ? AND ? GROUP BY partition, priority"
)


class SqliteMessageLog:
    """MessageLog on SQLite: a publish batch is one operation, its rows one ``executemany``."""

    def __init__(self, writer: SqliteWriter) -> None:
        self._writer = writer

    async def append(self, topic: Topic, drafts: Sequence[MessageDraft]) -> list[MessageId]:
        return await self._writer.run(functools.partial(_append, topic=topic, drafts=drafts))

    async def fetch(self, topic: str, ids: Sequence[MessageId]) -> dict[MessageId, Message]:
        return await self._writer.run(functools.partial(fetch_messages, topic=topic, ids=ids))

    async def browse(self, topic: str, after: MessageId | None, limit: int) -> list[Message]:
        return await self._writer.run(
            functools.partial(browse_messages, topic=topic, after=after, limit=limit)
        )

    async def stats(self, topic: str) -> TopicStats:
        return await self._writer.run(functools.partial(topic_stats, topic=topic))

    async def partitions(self, topic: str) -> list[PartitionSummary]:
        return await self._writer.run(functools.partial(partition_summaries, topic=topic))

    async def remove(self, topic: str, ids: Sequence[MessageId]) -> int:
        return await self._writer.run(functools.partial(_remove, topic=topic, ids=ids))

    async def trim(self, topic: str, published_before: float) -> int:
        return await self._writer.run(
            functools.partial(_trim, topic=topic, published_before=published_before)
        )


def _append(db: Database, topic: Topic, drafts: Sequence[MessageDraft]) -> list[MessageId]:
    topic_id, _ = topic_entry(db, topic.name)
    if not drafts:
        return []
    window = topic.dedup_window_seconds
    deduplicating = bool(window) and any(d.dedup_id for d in drafts)
    slots, fresh = _resolve_duplicates(db, topic_id, drafts) if deduplicating else (None, drafts)
    if _rejects(topic) and _stored(db, topic_id) + len(fresh) > topic.max_messages:
        raise TopicFull(topic.name, topic.max_messages)
    dropping = check_bounds(db, topic_id, len(fresh))
    first = db.take_seqs(len(fresh))
    ids = _store(db, topic_id, first, fresh)
    if deduplicating:
        _remember(db, topic_id, fresh, ids, window)
    db.connection.execute(
        "UPDATE topics SET publish_count = publish_count + ?, last_publish_at = ? WHERE id = ?",
        (len(fresh), drafts[-1].published_at, topic_id),
    )
    if topic.is_bounded and topic.overflow is Overflow.DROP_OLDEST:
        _drop_oldest(db, topic_id, topic.max_messages)
    skip_oldest(db, topic_id, dropping)
    if slots is None:
        return ids
    return [ids[slot] if isinstance(slot, int) else slot for slot in slots]


def _rejects(topic: Topic) -> bool:
    return topic.is_bounded and topic.overflow is Overflow.REJECT


def _store(
    db: Database, topic_id: int, first: int, drafts: Sequence[MessageDraft]
) -> list[MessageId]:
    """Insert the rows, then count what they added (one aggregate over the new rows rather
    than Python work per message) into the partition counters and the lane tails."""
    connection = db.connection
    connection.executemany(_INSERT, draft_rows(topic_id, first, drafts))
    added: dict[int, tuple[int, int]] = {}
    for partition, rank, count, size, newest in connection.execute(
        _ADDED, (first, first + len(drafts) - 1)
    ):
        total, total_size = added.get(partition, (0, 0))
        added[partition] = (total + count, total_size + size)
        db.tails(topic_id, partition)[rank] = newest
    connection.executemany(
        "UPDATE partitions SET messages = messages + ?, bytes = bytes + ?"
        " WHERE topic_id = ? AND partition = ?",
        [(count, size, topic_id, p) for p, (count, size) in added.items()],
    )
    # Plain str ids: MessageId() would cost a call per message.
    ids = [f"{d.partition}-{seq}" for seq, d in enumerate(drafts, first)]
    return cast(list[MessageId], ids)


def _resolve_duplicates(
    db: Database, topic_id: int, drafts: Sequence[MessageDraft]
) -> tuple[list[int | MessageId], list[MessageDraft]]:
    """Map each draft to an existing id (a duplicate) or to its place among the new ones."""
    known = _known(db, topic_id, drafts)
    slots: list[int | MessageId] = []
    fresh: list[MessageDraft] = []
    in_batch: dict[str, int] = {}
    for draft in drafts:
        dedup_id = draft.dedup_id
        record = known.get(dedup_id) if dedup_id else None
        if record is not None and record[1] > draft.published_at:
            slots.append(record[0])
        elif dedup_id and dedup_id in in_batch:
            slots.append(in_batch[dedup_id])
        else:
            if dedup_id:
                in_batch[dedup_id] = len(fresh)
            slots.append(len(fresh))
            fresh.append(draft)
    return slots, fresh


def _known(
    db: Database, topic_id: int, drafts: Sequence[MessageDraft]
) -> dict[str, tuple[MessageId, float]]:
    """The dedup records of the batch's dedup ids (first id, window end), in one query;
    records whose window closed before the batch are forgotten first."""
    connection = db.connection
    connection.execute(
        "DELETE FROM dedup WHERE topic_id = ? AND expires <= ?",
        (topic_id, drafts[0].published_at),
    )
    wanted = orjson.dumps(list({d.dedup_id for d in drafts if d.dedup_id}))
    rows = connection.execute(
        "SELECT dedup_id, message_id, expires FROM dedup"
        " WHERE topic_id = ? AND dedup_id IN (SELECT value FROM json_each(?))",
        (topic_id, wanted),
    )
    return {dedup_id: (MessageId(id_), expires) for dedup_id, id_, expires in rows}


def _remember(
    db: Database, topic_id: int, drafts: Sequence[MessageDraft], ids: list[MessageId], window: int
) -> None:
    db.connection.executemany(
        "INSERT OR REPLACE INTO dedup VALUES (?, ?, ?, ?)",
        [
            (topic_id, d.dedup_id, id_, d.published_at + window)
            for d, id_ in zip(drafts, ids, strict=True)
            if d.dedup_id
        ],
    )


def _stored(db: Database, topic_id: int) -> int:
    [count] = db.connection.execute(
        "SELECT SUM(messages) FROM partitions WHERE topic_id = ?", (topic_id,)
    ).fetchone()
    return int(count or 0)


def _drop_oldest(db: Database, topic_id: int, max_messages: int) -> None:
    """Remove the oldest messages by publish time (then partition, then publish order)
    until the topic is back at its bound."""
    excess = _stored(db, topic_id) - max_messages
    if excess > 0:
        _delete_where(
            db,
            topic_id,
            "seq IN (SELECT seq FROM messages WHERE topic_id = ?"
            " ORDER BY published_at, partition, seq LIMIT ?)",
            (topic_id, excess),
        )


def _delete_where(db: Database, topic_id: int, where: str, args: tuple[object, ...]) -> int:
    """Delete the topic's messages matching ``where`` and take them off the partition
    counters; how many were deleted."""
    db.keep_seq_high()
    rows = db.connection.execute(
        f"DELETE FROM messages WHERE {where} RETURNING partition, length(data)", args
    ).fetchall()
    _uncount(db, topic_id, rows)
    return len(rows)


def _uncount(db: Database, topic_id: int, removed: Iterable[tuple[int, int]]) -> None:
    by_partition: dict[int, tuple[int, int]] = {}
    for partition, size in removed:
        count, total = by_partition.get(partition, (0, 0))
        by_partition[partition] = (count + 1, total + size)
    db.connection.executemany(
        "UPDATE partitions SET messages = messages - ?, bytes = bytes - ?"
        " WHERE topic_id = ? AND partition = ?",
        [(count, size, topic_id, p) for p, (count, size) in by_partition.items()],
    )


def _remove(db: Database, topic: str, ids: Sequence[MessageId]) -> int:
    try:
        topic_id, _ = topic_entry(db, topic)
    except TopicNotFound:
        return 0
    by_partition: dict[int, list[int]] = {}
    for id_ in ids:
        parsed = parse_message_id(id_)
        if parsed is not None:
            by_partition.setdefault(parsed[0], []).append(parsed[1])
    where = "+topic_id = ? AND +partition = ? AND seq IN (SELECT value FROM json_each(?))"
    return sum(
        _delete_where(db, topic_id, where, (topic_id, partition, orjson.dumps(seqs)))
        for partition, seqs in by_partition.items()
    )


def _trim(db: Database, topic: str, published_before: float) -> int:
    try:
        topic_id, _ = topic_entry(db, topic)
    except TopicNotFound:
        return 0
    old = db.connection.execute(
        "SELECT 1 FROM messages WHERE topic_id = ? AND published_at < ? LIMIT 1",
        (topic_id, published_before),
    ).fetchone()
    if old is None:
        return 0  # the usual case: nothing to write
    return _delete_where(
        db,
        topic_id,
        "seq IN (SELECT seq FROM messages WHERE topic_id = ? AND published_at < ? LIMIT ?)",
        (topic_id, published_before, TRIM_BATCH),
    )
