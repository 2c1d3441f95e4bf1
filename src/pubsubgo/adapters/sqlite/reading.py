"""Reading messages (writer thread): a partition lane by lane, or across its lanes in
publish order; fetching, browsing and counting a topic's.

The ``messages_by_lane`` index orders each lane (topic, partition, priority) by sequence
number; publish order across the lanes is a merge of the lanes, which costs no scan of the
partition (an ``ORDER BY seq`` over the partition would sort all of it).
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from pubsubgo.adapters.sqlite.codec import MESSAGE_COLUMNS, message_from_row, parse_message_id
from pubsubgo.adapters.sqlite.database import Database
from pubsubgo.adapters.sqlite.definitions import topic_entry
from pubsubgo.core.errors import InvalidArgument, TopicNotFound
from pubsubgo.core.messages import Message, MessageId
from pubsubgo.core.topics import PartitionSummary, TopicStats

#: Rows read from a lane at a time when merging lanes (most merges stop early).
CHUNK = 256
LANE_QUERY = (
    f"SELECT {MESSAGE_COLUMNS} FROM messages"
    " WHERE topic_id = ? AND partition = ? AND priority = ? AND seq > ? ORDER BY seq LIMIT ?"
)
_SEQ = operator.itemgetter(0)


def lane_rows(
    db: Database, topic_id: int, partition: int, rank: int, after: int, limit: int
) -> list[Any]:
    """Up to ``limit`` rows (``MESSAGE_COLUMNS``) of one lane after sequence number ``after``."""
    return db.connection.execute(LANE_QUERY, (topic_id, partition, rank, after, limit)).fetchall()


def partition_in_order(
    db: Database, topic_id: int, partition: int, cursors: Sequence[int]
) -> Iterator[Any]:
    """The partition's rows in publish order, each lane from after its cursor (by rank);
    lanes known to have nothing past their cursor are not read."""
    tails = db.tails(topic_id, partition)
    lanes = [
        _lane(db, topic_id, partition, rank, cursor)
        for rank, cursor in enumerate(cursors)
        if tails[rank] > cursor
    ]
    if len(lanes) == 1:
        return lanes[0]
    return heapq.merge(*lanes, key=_SEQ)


def _lane(db: Database, topic_id: int, partition: int, rank: int, after: int) -> Iterator[Any]:
    while True:
        rows = lane_rows(db, topic_id, partition, rank, after, CHUNK)
        yield from rows
        if len(rows) < CHUNK:
            return
        after = rows[-1][0]


def fetch_messages(db: Database, topic: str, ids: Sequence[MessageId]) -> dict[MessageId, Message]:
    """``MessageLog.fetch``: each id looked up by its sequence number (the rowid)."""
    try:
        topic_id, _ = topic_entry(db, topic)
    except TopicNotFound:
        return {}
    wanted: dict[int, tuple[int, MessageId]] = {}
    for id_ in ids:
        parsed = parse_message_id(id_)
        if parsed is not None:
            wanted[parsed[1]] = (parsed[0], id_)
    rows = db.connection.execute(
        f"SELECT {MESSAGE_COLUMNS} FROM messages"
        " WHERE +topic_id = ? AND seq IN (SELECT value FROM json_each(?))",
        (topic_id, orjson.dumps(list(wanted))),
    )
    found: dict[MessageId, Message] = {}
    for row in rows:
        partition, id_ = wanted[row[0]]
        if row[1] == partition:
            found[id_] = message_from_row(topic, row)
    return found


def browse_messages(db: Database, topic: str, after: MessageId | None, limit: int) -> list[Message]:
    """``MessageLog.browse``: partition by partition, each in publish order."""
    topic_id, definition = topic_entry(db, topic)
    start = parse_message_id(after) if after else (0, 0)
    if start is None:
        raise InvalidArgument(
            f"after {after!r} is not a message id of this broker ('<partition>-<sequence>')",
            field="after",
        )
    found: list[Message] = []
    for partition in range(start[0], definition.partitions):
        after_seq = start[1] if partition == start[0] else 0
        rows = partition_in_order(db, topic_id, partition, [after_seq] * 4)
        for row in rows:
            if len(found) >= limit:
                return found
            found.append(message_from_row(topic, row))
    return found


def partition_summaries(db: Database, topic: str) -> list[PartitionSummary]:
    """``MessageLog.partitions``: each partition's counter, and its lanes' ends."""
    topic_id, _ = topic_entry(db, topic)
    connection = db.connection
    rows = connection.execute(
        "SELECT partition, messages FROM partitions WHERE topic_id = ? ORDER BY partition",
        (topic_id,),
    ).fetchall()
    found = []
    for partition, depth in rows:
        first, last = connection.execute(_ENDS, (topic_id, partition)).fetchone()
        found.append(
            PartitionSummary(
                partition,
                depth,
                None if first is None else MessageId(f"{partition}-{first}"),
                None if last is None else MessageId(f"{partition}-{last}"),
            )
        )
    return found


#: A partition's first and last sequence number (MIN and MAX over an index prefix are a
#: lookup each).
_ENDS = "SELECT MIN(seq), MAX(seq) FROM messages WHERE topic_id = ?1 AND partition = ?2"


def topic_stats(db: Database, topic: str) -> TopicStats:
    """``MessageLog.stats``, from the partition counters."""
    topic_id, _ = topic_entry(db, topic)
    connection = db.connection
    rows = connection.execute(
        "SELECT messages, bytes FROM partitions WHERE topic_id = ? ORDER BY partition",
        (topic_id,),
    ).fetchall()
    publish_count, last_publish_at = connection.execute(
        "SELECT publish_count, last_publish_at FROM topics WHERE id = ?", (topic_id,)
    ).fetchone()
    return TopicStats(
        messages=sum(count for count, _ in rows),
        bytes=sum(size for _, size in rows),
        partition_depths=tuple(count for count, _ in rows),
        publish_count=publish_count,
        last_publish_at=last_publish_at,
    )
