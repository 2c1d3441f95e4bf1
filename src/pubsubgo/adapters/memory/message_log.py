"""InMemoryMessageLog: append, read and trim topic partitions held in memory."""

from __future__ import annotations

import bisect
import heapq
import itertools
import operator
import re
from collections.abc import Iterator, Sequence
from typing import cast

from pubsubgo.adapters.memory.backlog import backlog, skip_oldest
from pubsubgo.adapters.memory.state import MemoryState, PartitionLog, SubscriptionState, TopicState
from pubsubgo.adapters.memory.topics import topic_state
from pubsubgo.core.errors import InvalidArgument, SubscriptionBacklogFull, TopicFull
from pubsubgo.core.messages import Message, MessageDraft, MessageId, partition_of
from pubsubgo.core.topics import Overflow, PartitionSummary, Topic, TopicStats

#: Fields of a draft read by position: a C-level item lookup costs less than the attribute.
_DATA = operator.itemgetter(MessageDraft._fields.index("data"))
_DEDUP_ID = operator.itemgetter(MessageDraft._fields.index("dedup_id"))
#: How a draft of a batch resolves: a new message (index into the stored list) or an old id.
_Slot = int | MessageId


class InMemoryMessageLog:
    """MessageLog over the shared in-memory state."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def append(self, topic: Topic, drafts: Sequence[MessageDraft]) -> list[MessageId]:
        state = topic_state(self._state, topic.name)
        if not drafts:
            return []
        state.forget_dedup_before(drafts[0].published_at)
        deduplicating = bool(state.topic.dedup_window_seconds) and any(map(_DEDUP_ID, drafts))
        slots, fresh = _resolve_duplicates(state, drafts) if deduplicating else (None, drafts)
        _check_capacity(state, len(fresh))
        bounded = self._bounded(state, len(fresh)) if state.bounded else ()
        ids = _store_all(state, fresh)
        if deduplicating:
            _remember_all(state, fresh, ids)
        _enforce_drop_oldest(state)
        for sub in bounded:
            excess = backlog(sub, state.partitions) - sub.subscription.max_backlog
            if excess > 0:
                skip_oldest(sub, state.partitions, excess)
        state.publish_count += len(fresh)
        state.last_publish_at = drafts[-1].published_at
        if slots is None:
            return ids
        return [ids[slot] if isinstance(slot, int) else slot for slot in slots]

    def _bounded(self, state: TopicState, incoming: int) -> list[SubscriptionState]:
        """The topic's bounded subscriptions that drop their oldest, once every one that
        rejects has room for ``incoming`` more messages.

        Raises:
            SubscriptionBacklogFull: a rejecting one has not.
        """
        dropping: list[SubscriptionState] = []
        for name in state.bounded:
            sub = self._state.subscriptions[name]
            bound = sub.subscription.max_backlog
            if sub.subscription.overflow is Overflow.DROP_OLDEST:
                dropping.append(sub)
            elif backlog(sub, state.partitions) + incoming > bound:
                raise SubscriptionBacklogFull(name, bound)
        return dropping

    async def fetch(self, topic: str, ids: Sequence[MessageId]) -> dict[MessageId, Message]:
        state = self._state.topics.get(topic)
        if state is None:
            return {}
        found: dict[MessageId, Message] = {}
        for id_ in ids:
            message = _find(state, id_)
            if message is not None:
                found[id_] = message
        return found

    async def browse(self, topic: str, after: MessageId | None, limit: int) -> list[Message]:
        state = topic_state(self._state, topic)
        found: list[Message] = []
        for message in _messages_after(state, after):
            if len(found) >= limit:
                break
            found.append(message)
        return found

    async def stats(self, topic: str) -> TopicStats:
        state = topic_state(self._state, topic)
        return TopicStats(
            messages=state.stored_count,
            bytes=state.stored_bytes,
            partition_depths=tuple(len(p.live) for p in state.partitions),
            publish_count=state.publish_count,
            last_publish_at=state.last_publish_at,
        )

    async def partitions(self, topic: str) -> list[PartitionSummary]:
        state = topic_state(self._state, topic)
        return [_summary(index, log) for index, log in enumerate(state.partitions)]

    async def remove(self, topic: str, ids: Sequence[MessageId]) -> int:
        state = self._state.topics.get(topic)
        if state is None:
            return 0
        return sum(_forget(state, id_) for id_ in ids)

    async def trim(self, topic: str, published_before: float) -> int:
        state = self._state.topics.get(topic)
        if state is None:
            return 0
        removed = 0
        for log in state.partitions:
            for lane in log.lanes.values():
                while (head := log.oldest_live(lane)) and head.published_at < published_before:
                    removed += _forget(state, head.id)
        return removed


def _summary(partition: int, log: PartitionLog) -> PartitionSummary:
    # ``live`` keeps publish order: its first and last keys are the oldest and newest.
    live = log.live
    first = next(iter(live), None)
    last = next(reversed(live), None)
    return PartitionSummary(
        partition,
        len(live),
        None if first is None else MessageId(first),
        None if last is None else MessageId(last),
    )


def _resolve_duplicates(
    state: TopicState, drafts: Sequence[MessageDraft]
) -> tuple[list[_Slot], list[MessageDraft]]:
    """Map each draft to an existing id (a duplicate) or to its place among the new ones."""
    slots: list[_Slot] = []
    fresh: list[MessageDraft] = []
    in_batch: dict[str, int] = {}
    for draft in drafts:
        dedup_id = draft.dedup_id if state.topic.dedup_window_seconds else None
        record = state.dedup.get(dedup_id) if dedup_id else None
        if record is not None and record[1] > draft.published_at:
            slots.append(record[0])
        elif dedup_id is not None and dedup_id in in_batch:
            slots.append(in_batch[dedup_id])
        else:
            if dedup_id is not None:
                in_batch[dedup_id] = len(fresh)
            slots.append(len(fresh))
            fresh.append(draft)
    return slots, fresh


def _check_capacity(state: TopicState, incoming: int) -> None:
    topic = state.topic
    rejects = topic.is_bounded and topic.overflow is Overflow.REJECT
    if rejects and state.stored_count + incoming > topic.max_messages:
        raise TopicFull(topic.name, topic.max_messages)


def _store_all(state: TopicState, drafts: Sequence[MessageDraft]) -> list[MessageId]:
    """Append drafts to their partitions; one tight loop, as this runs once per message."""
    name = state.topic.name
    partitions = state.partitions
    ids: list[str] = []
    add_id, new = ids.append, tuple.__new__
    for draft in drafts:
        log = partitions[draft.partition]
        offset = log.next_offset
        log.next_offset = offset + 1
        low = offset % 1000
        if low == 0:
            log.start_thousand(offset)
        # The id "{partition}-{offset}", kept a plain str: MessageId() costs a call.
        id_ = log.id_head + log.id_tails[low]
        # Message(id, topic, *draft), built as the tuple it is: concatenating tuples costs
        # less than unpacking the draft into a new one, and no _make or __new__ call.
        message = new(Message, (id_, name) + draft)
        log.lanes[draft.priority].entries.append(message)
        log.live[id_] = message
        add_id(id_)
    state.stored_count += len(drafts)
    state.stored_bytes += sum(map(len, map(_DATA, drafts)))  # C-level loops
    return cast(list[MessageId], ids)


def _remember_all(
    state: TopicState, drafts: Sequence[MessageDraft], ids: Sequence[MessageId]
) -> None:
    """Record the dedup ids of messages just stored (unique within ``drafts``)."""
    window = state.topic.dedup_window_seconds
    for draft, id_ in zip(drafts, ids, strict=True):
        if draft.dedup_id:
            _remember(state, draft.dedup_id, id_, draft.published_at + window)


def _remember(state: TopicState, dedup_id: str, id_: MessageId, expires: float) -> None:
    state.dedup[dedup_id] = (id_, expires)
    heapq.heappush(state.dedup_expiry, (expires, dedup_id))


def _enforce_drop_oldest(state: TopicState) -> None:
    topic = state.topic
    if not (topic.is_bounded and topic.overflow is Overflow.DROP_OLDEST):
        return
    while state.stored_count > topic.max_messages:
        heads = (log.oldest() for log in state.partitions)
        oldest = min((m for m in heads if m), key=lambda m: m.published_at)
        _forget(state, oldest.id)


def _find(state: TopicState, id_: MessageId) -> Message | None:
    partition = partition_of(id_)
    if partition is None or partition >= len(state.partitions):
        return None
    return state.partitions[partition].live.get(id_)


def _forget(state: TopicState, id_: MessageId) -> int:
    partition = partition_of(id_)
    if partition is None or partition >= len(state.partitions):
        return 0
    message = state.partitions[partition].live.pop(id_, None)
    if message is None:
        return 0
    state.stored_count -= 1
    state.stored_bytes -= len(message.data)
    return 1


def _messages_after(state: TopicState, after: MessageId | None) -> Iterator[Message]:
    """Live messages partition by partition, in publish order, after ``after``."""
    start_partition, start_offset = _browse_start(after)
    for index, log in enumerate(state.partitions[start_partition:], start_partition):
        minimum = start_offset if index == start_partition else -1
        yield from _live_after(log, minimum)


def _browse_start(after: MessageId | None) -> tuple[int, int]:
    """The partition to start at and the offset to start after in it (-1 for its start).

    Raises:
        InvalidArgument: ``after`` is not an id of this backend's form.
    """
    if after is None:
        return 0, -1
    found = _MEMORY_ID.fullmatch(after)
    if found is None:
        raise InvalidArgument(
            f"after {after!r} is not a message id of this broker ('<partition>-<offset>')",
            field="after",
        )
    return int(found[1]), int(found[2])


#: The ids this backend issues: ``<partition>-<offset>``, in ASCII digits.
_MEMORY_ID = re.compile(r"([0-9]+)-([0-9]+)")
#: Their JSON Schema pattern (a partition below 1000, an offset of at most 20 digits).
ID_PATTERN = r"^[0-9]{1,3}-[0-9]{1,20}$"


def _live_after(log: PartitionLog, minimum: int) -> Iterator[Message]:
    """Live messages after offset ``minimum`` in publish order: each lane is bisected to its
    start and the lanes are merged, so a late page costs no scan of the earlier ones."""
    lanes = []
    for lane in log.lanes.values():
        start = bisect.bisect_right(lane.entries, minimum, lo=lane.start, key=_offset)
        lanes.append(itertools.islice(lane.entries, start, None))
    for message in heapq.merge(*lanes, key=_offset):
        if message.id in log.live:
            yield message


def _offset(message: Message) -> int:
    return int(message.id.rpartition("-")[2])
