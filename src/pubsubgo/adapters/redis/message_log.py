"""RedisStreamMessageLog: a topic's messages in one stream per partition and priority."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from pubsubgo.adapters.group_commit import GroupCommit
from pubsubgo.adapters.redis import keys
from pubsubgo.adapters.redis.codec import draft_args, message_from_entry, split_message_id, text
from pubsubgo.adapters.redis.definitions import Definitions
from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.adapters.redis.layout import Layout
from pubsubgo.adapters.redis.scripts import Call, ScriptRunner
from pubsubgo.core.errors import (
    InvalidArgument,
    SubscriptionBacklogFull,
    TopicFull,
    TopicNotFound,
)
from pubsubgo.core.messages import Message, MessageDraft, MessageId
from pubsubgo.core.topics import PartitionSummary, Topic, TopicStats

#: Retention removes at most this many messages per slot group and round, so that one script
#: never blocks Redis for long; the next round of the duty removes the rest.
TRIM_BATCH = 10_000
#: Spread topics are browsed this many partitions per round trip.
BROWSE_GROUPS_PER_ROUND = 8


class RedisStreamMessageLog:
    """MessageLog on Redis Streams.

    A publish is one ``append.lua`` call per slot group the batch touches, pipelined: one
    round trip. Within a slot group the batch is atomic (dedup, capacity, ids); a spread
    topic's batch is atomic per partition. Publishes to a topic that arrive while one is in
    flight are stored together by the next call (:class:`GroupCommit`). See docs/redis.md
    for the stream entry format.
    """

    def __init__(self, runner: ScriptRunner, definitions: Definitions) -> None:
        self._runner = runner
        self._definitions = definitions
        self._commits: dict[str, GroupCommit] = {}

    async def append(self, topic: Topic, drafts: Sequence[MessageDraft]) -> list[MessageId]:
        if not drafts:
            return []
        commit = self._commits.get(topic.name)
        if commit is None:
            commit = GroupCommit(self._append_now, functools.partial(self._forget, topic.name))
            self._commits[topic.name] = commit
        return await commit.append(topic, drafts)

    def _forget(self, topic: str) -> None:
        """Drop an idle topic's GroupCommit (topics come and go)."""
        self._commits.pop(topic, None)

    async def _append_now(self, topic: Topic, drafts: Sequence[MessageDraft]) -> list[MessageId]:
        """Store ``drafts`` with one round trip."""
        _, layout = await self._definitions.topic(topic.name)
        by_group: dict[int, list[int]] = {}
        for index, draft in enumerate(drafts):
            by_group.setdefault(layout.group_of(draft.partition), []).append(index)
        calls = [_append_call(layout, topic, group, drafts, i) for group, i in by_group.items()]
        with translate_redis_errors("publish"):
            replies = await self._runner.run("append", calls)
        ids: list[MessageId] = [MessageId("")] * len(drafts)
        for indexes, reply in zip(by_group.values(), replies, strict=True):
            self._check(topic, reply)
            for index, id_ in zip(indexes, reply[1:], strict=True):
                ids[index] = MessageId(text(id_))
        return ids

    async def fetch(self, topic: str, ids: Sequence[MessageId]) -> dict[MessageId, Message]:
        try:
            _, layout = await self._definitions.topic(topic)
        except TopicNotFound:
            return {}
        calls = _id_calls(layout, ids)
        with translate_redis_errors("fetch messages"):
            replies = await self._runner.run("fetch", calls)
        found = (message_from_entry(topic, p, e, f) for reply in replies for p, e, f in reply)
        return {m.id: m for m in found}

    async def browse(self, topic: str, after: MessageId | None, limit: int) -> list[Message]:
        _, layout = await self._definitions.topic(topic)
        start, entry = _browse_start(after)
        groups = list(layout.groups(range(start, layout.partitions)).items())
        found: list[Message] = []
        for first in range(0, len(groups), BROWSE_GROUPS_PER_ROUND):
            calls = [
                _browse_call(layout, group, parts, entry if parts[0] == start else "", limit)
                for group, parts in groups[first : first + BROWSE_GROUPS_PER_ROUND]
            ]
            with translate_redis_errors("browse messages"):
                replies = await self._runner.run("browse", calls)
            for reply in replies:
                found += (message_from_entry(topic, p, e, f) for p, e, f in reply)
            if len(found) >= limit:
                break
        return found[:limit]

    async def stats(self, topic: str) -> TopicStats:
        _, layout = await self._definitions.topic(topic)
        with translate_redis_errors("topic stats"):
            pipe = self._runner.client.pipeline(transaction=False)
            for partition in range(layout.partitions):
                meta = keys.meta(layout.prefix(layout.group_of(partition)), partition)
                pipe.hmget(meta, ["c", "b", "pc", "lp"])
            rows: list[list[Any]] = await pipe.execute()
        depths = tuple(int(row[0] or 0) for row in rows)
        published = [float(row[3]) for row in rows if row[3] is not None]
        return TopicStats(
            messages=sum(depths),
            bytes=sum(int(row[1] or 0) for row in rows),
            partition_depths=depths,
            publish_count=sum(int(row[2] or 0) for row in rows),
            last_publish_at=max(published, default=None),
        )

    async def partitions(self, topic: str) -> list[PartitionSummary]:
        _, layout = await self._definitions.topic(topic)
        with translate_redis_errors("topic partitions"):
            pipe = self._runner.client.pipeline(transaction=False)
            for partition in range(layout.partitions):
                prefix = layout.prefix(layout.group_of(partition))
                pipe.hget(keys.meta(prefix, partition), "c")
                for rank in range(4):
                    lane = keys.lane(prefix, partition, rank)
                    pipe.xrange(lane, count=1)
                    pipe.xrevrange(lane, count=1)
            rows: list[Any] = await pipe.execute()
        step = 1 + 2 * 4
        return [
            _summary(partition, rows[partition * step : (partition + 1) * step])
            for partition in range(layout.partitions)
        ]

    async def remove(self, topic: str, ids: Sequence[MessageId]) -> int:
        try:
            _, layout = await self._definitions.topic(topic)
        except TopicNotFound:
            return 0
        with translate_redis_errors("remove messages"):
            return sum(await self._runner.run("remove", _id_calls(layout, ids)))

    async def trim(self, topic: str, published_before: float) -> int:
        try:
            _, layout = await self._definitions.topic(topic)
        except TopicNotFound:
            return 0
        calls: list[Call] = [
            (
                [layout.anchor(group)],
                [layout.prefix(group), repr(published_before), str(TRIM_BATCH), *map(str, parts)],
            )
            for group, parts in layout.all_groups().items()
        ]
        with translate_redis_errors("trim messages"):
            return sum(await self._runner.run("trim", calls))

    def _check(self, topic: Topic, reply: list[Any]) -> None:
        status = reply[0]
        if status == b"NOTOPIC":
            self._definitions.forget_topic(topic.name)
            raise TopicNotFound(topic.name)
        if status == b"FULL":
            raise TopicFull(topic.name, topic.max_messages)
        if status == b"BACKLOG":
            raise SubscriptionBacklogFull(text(reply[1]), int(reply[2]))


def _summary(partition: int, row: list[Any]) -> PartitionSummary:
    """A partition's summary from its count and each lane's first and last entry: the
    partition's oldest and newest are the lowest and highest publish order among them."""
    ends = [text(found[0][0]) for found in row[1:] if found]
    order = _entry_order
    first = min(ends, key=order, default=None)
    last = max(ends, key=order, default=None)
    return PartitionSummary(
        partition,
        int(row[0] or 0),
        None if first is None else MessageId(f"{partition}-{first}"),
        None if last is None else MessageId(f"{partition}-{last}"),
    )


def _entry_order(entry: str) -> int:
    """The publish order of an entry within its partition (its id's sequence: order * 4 +
    the lane's rank)."""
    return int(entry.rpartition("-")[2])


def _append_call(
    layout: Layout, topic: Topic, group: int, drafts: Sequence[MessageDraft], indexes: list[int]
) -> Call:
    first, count = (0, layout.partitions) if layout.colocated else (group, 1)
    window = topic.dedup_window_seconds
    head = [layout.prefix(group), str(group), str(window), str(topic.max_messages)]
    head += [topic.overflow.value, str(first), str(count)]
    return [layout.anchor(group)], [*head, *draft_args(drafts, indexes)]


def _id_calls(layout: Layout, ids: Sequence[MessageId]) -> list[Call]:
    """One call per slot group with the (partition, entry id) pairs of ``ids`` in it."""
    by_group: dict[int, list[str]] = {}
    for id_ in ids:
        parsed = split_message_id(id_)
        if parsed is not None and parsed[0] < layout.partitions:
            by_group.setdefault(layout.group_of(parsed[0]), []).extend((str(parsed[0]), parsed[1]))
    return [([layout.anchor(g)], [layout.prefix(g), *pairs]) for g, pairs in by_group.items()]


def _browse_start(after: MessageId | None) -> tuple[int, str]:
    """The partition to start at and the entry to start after in it ('' for its start).

    Raises:
        InvalidArgument: ``after`` is not an id of this backend's form.
    """
    if after is None:
        return 0, ""
    parsed = split_message_id(after)
    if parsed is None:
        raise InvalidArgument(
            f"after {after!r} is not a message id of this broker"
            " ('<partition>-<milliseconds>-<sequence>', each part below 2^64)",
            field="after",
        )
    return parsed


def _browse_call(layout: Layout, group: int, parts: list[int], entry: str, limit: int) -> Call:
    args = [layout.prefix(group), entry, str(limit), *map(str, parts)]
    return [layout.anchor(group)], args
