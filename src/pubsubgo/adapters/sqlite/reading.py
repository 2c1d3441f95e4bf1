"""Reading a partition's messages lane by lane, or across its lanes in publish order.

The ``messages_by_lane`` index orders each lane (topic, partition, priority) by sequence
number; publish order across the lanes is a merge of the lanes, which costs no scan of the
partition (an ``ORDER BY seq`` over the partition would sort all of it).
"""

from __future__ import annotations

import heapq
import operator
from collections.abc import Iterator, Sequence
from typing import Any

from pubsubgo.adapters.sqlite.codec import MESSAGE_COLUMNS
from pubsubgo.adapters.sqlite.database import Database

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
