"""PostgresMessageLog: a topic's messages, one row each, in lanes per partition and priority."""

from __future__ import annotations

import functools
from collections.abc import Sequence

from pubsubgo.adapters.group_commit import GroupCommit
from pubsubgo.adapters.postgres.backlog import BacklogBounds
from pubsubgo.adapters.postgres.codec import draft_columns, message_from_row, split_message_id
from pubsubgo.adapters.postgres.database import Database
from pubsubgo.adapters.postgres.definitions import Definitions
from pubsubgo.adapters.postgres.errors import TOPIC_FULL
from pubsubgo.core.errors import InvalidArgument, PubSubError, TopicFull, TopicNotFound
from pubsubgo.core.messages import Message, MessageDraft, MessageId
from pubsubgo.core.topics import PartitionSummary, Topic, TopicStats

#: Retention removes at most this many messages per partition and call, so that no
#: statement holds a partition's row (and so its publishes) for long; the duty's next
#: round removes the rest.
TRIM_BATCH = 5000
#: Publish calls in flight per topic and process. One: the calls of a topic would wait for
#: each other anyway (each holds the rows of the partitions it writes until its commit is
#: flushed), so whatever arrives meanwhile is better merged into the next call: one
#: transaction, and one WAL flush, for all of it.
CALLS_IN_FLIGHT = 1
_PARTITIONS_TO_TRIM = """
SELECT t.id, pt.partition FROM topics t JOIN partitions pt ON pt.topic_id = t.id
 WHERE t.name = $1 AND EXISTS (
       SELECT 1 FROM generate_series(0, 3) AS r
        WHERE (SELECT m.published_at FROM messages m
                WHERE m.topic_id = t.id AND m.partition = pt.partition AND m.rank = r
                ORDER BY m.s LIMIT 1) < $2)
"""
_FETCH = """
SELECT m.* FROM topics t
 CROSS JOIN unnest($2::int[], $3::bigint[]) AS x (p, s)
 CROSS JOIN LATERAL psg_message(t.id, x.p, x.s) AS m
 WHERE t.name = $1
"""
#: Each partition's depth and its first and last position (the ends of its four lanes).
_PARTITIONS = """
SELECT pt.partition, pt.messages,
       (SELECT min(e.s) FROM generate_series(0, 3) AS r CROSS JOIN LATERAL (
            SELECT s FROM messages m WHERE m.topic_id = t.id AND m.partition = pt.partition
               AND m.rank = r ORDER BY s LIMIT 1) AS e),
       (SELECT max(e.s) FROM generate_series(0, 3) AS r CROSS JOIN LATERAL (
            SELECT s FROM messages m WHERE m.topic_id = t.id AND m.partition = pt.partition
               AND m.rank = r ORDER BY s DESC LIMIT 1) AS e)
  FROM topics t JOIN partitions pt ON pt.topic_id = t.id
 WHERE t.name = $1 ORDER BY pt.partition
"""
_STATS = """
SELECT pt.messages, pt.bytes, pt.publishes, pt.last_publish
  FROM topics t JOIN partitions pt ON pt.topic_id = t.id
 WHERE t.name = $1 ORDER BY pt.partition
"""


class PostgresMessageLog:
    """MessageLog on PostgreSQL.

    A publish is one call of ``psg_append``: one round trip and one transaction, which
    locks the partitions it writes (so positions are committed in order), resolves dedup
    ids, applies the topic's bound and inserts the batch from column arrays (``unnest``).
    Concurrent publishes to one topic are merged while a call is in flight
    (``GroupCommit``), so a burst of small publishes costs a few transactions.
    """

    def __init__(self, db: Database, definitions: Definitions, bounds: BacklogBounds) -> None:
        self._db = db
        self._definitions = definitions
        self._bounds = bounds
        self._commits: dict[str, GroupCommit] = {}

    async def append(self, topic: Topic, drafts: Sequence[MessageDraft]) -> list[MessageId]:
        if not drafts:
            return []
        commit = self._commits.get(topic.name)
        if commit is None:
            commit = GroupCommit(
                self._append_now,
                functools.partial(self._forget, topic.name),
                max_in_flight=CALLS_IN_FLIGHT,
            )
            self._commits[topic.name] = commit
        return await commit.append(topic, drafts)

    def _forget(self, topic: str) -> None:
        """Drop an idle topic's GroupCommit (topics come and go)."""
        self._commits.pop(topic, None)

    async def _append_now(self, topic: Topic, drafts: Sequence[MessageDraft]) -> list[MessageId]:
        def refused(code: str) -> PubSubError:
            if code == TOPIC_FULL:
                return TopicFull(topic.name, topic.max_messages)
            self._definitions.forget_topic(topic.name)
            return TopicNotFound(topic.name)

        dropping = await self._bounds.check(topic, drafts)
        ids: list[MessageId] = await self._db.fetchval(
            "publish",
            "SELECT psg_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            topic.name,
            *draft_columns(drafts),
            refusal=refused,
        )
        await self._bounds.trim(dropping)
        return ids

    async def fetch(self, topic: str, ids: Sequence[MessageId]) -> dict[MessageId, Message]:
        parts, positions = _positions(ids)
        rows = await self._db.fetch("fetch messages", _FETCH, topic, parts, positions)
        found = (message_from_row(topic, row) for row in rows)
        return {m.id: m for m in found}

    async def browse(self, topic: str, after: MessageId | None, limit: int) -> list[Message]:
        partition, position = _browse_start(after)
        rows = await self._db.fetch(
            "browse messages",
            "SELECT * FROM psg_browse($1, $2, $3, $4)",
            topic,
            partition,
            position,
            limit,
            refusal=lambda _: TopicNotFound(topic),
        )
        return [message_from_row(topic, row) for row in rows]

    async def partitions(self, topic: str) -> list[PartitionSummary]:
        rows = await self._db.fetch("topic partitions", _PARTITIONS, topic)
        if not rows:
            raise TopicNotFound(topic)
        return [
            PartitionSummary(
                p,
                depth,
                None if first is None else MessageId(f"{p}-{first}"),
                None if last is None else MessageId(f"{p}-{last}"),
            )
            for p, depth, first, last in rows
        ]

    async def stats(self, topic: str) -> TopicStats:
        rows = await self._db.fetch("topic stats", _STATS, topic)
        if not rows:
            raise TopicNotFound(topic)
        depths = tuple(row[0] for row in rows)
        published = [row[3] for row in rows if row[3] is not None]
        return TopicStats(
            messages=sum(depths),
            bytes=sum(row[1] for row in rows),
            partition_depths=depths,
            publish_count=sum(row[2] for row in rows),
            last_publish_at=max(published, default=None),
        )

    async def remove(self, topic: str, ids: Sequence[MessageId]) -> int:
        parts, positions = _positions(ids)
        removed = await self._db.fetchval(
            "remove messages", "SELECT psg_remove($1, $2, $3)", topic, parts, positions
        )
        return int(removed)

    async def trim(self, topic: str, published_before: float) -> int:
        due = await self._db.fetch("trim messages", _PARTITIONS_TO_TRIM, topic, published_before)
        removed = 0
        for topic_id, partition in due:
            removed += await self._db.fetchval(
                "trim messages",
                "SELECT psg_trim($1, $2, $3, $4)",
                topic_id,
                partition,
                published_before,
                TRIM_BATCH,
            )
        return removed


def _positions(ids: Sequence[MessageId]) -> tuple[list[int], list[int]]:
    """The partitions and positions of ``ids`` (malformed ids left out)."""
    parts: list[int] = []
    positions: list[int] = []
    for id_ in ids:
        parsed = split_message_id(id_)
        if parsed is not None:
            parts.append(parsed[0])
            positions.append(parsed[1])
    return parts, positions


def _browse_start(after: MessageId | None) -> tuple[int, int]:
    """The partition to start at and the position to start after in it (-1: its start).

    Raises:
        InvalidArgument: ``after`` is not an id of this backend's form.
    """
    if after is None:
        return 0, -1
    parsed = split_message_id(after)
    if parsed is None:
        raise InvalidArgument(
            f"after {after!r} is not a message id of this broker ('<partition>-<position>')",
            field="after",
        )
    return parsed
