"""InMemoryDeliveryQueue: claims a subscription's messages from in-memory partitions."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from pubsubgo.adapters.memory.backlog import backlog, scheduled
from pubsubgo.adapters.memory.state import (
    Lane,
    MemoryState,
    PartitionLog,
    PartitionQueue,
    SubscriptionState,
)
from pubsubgo.adapters.memory.subscriptions import start_cursors, subscription_state
from pubsubgo.core.errors import MemberNotFound
from pubsubgo.core.messages import (
    PRIORITIES_BY_URGENCY,
    AckId,
    Delivery,
    Message,
    MessageId,
    Priority,
    partition_of,
)
from pubsubgo.core.subscriptions import (
    Redelivery,
    StartPosition,
    Subscription,
    SubscriptionStats,
)
from pubsubgo.core.topics import Topic
from pubsubgo.ports.deliveries import SeekTarget

#: Positions within a claim as text, formatted once: an ack id is the claim's own prefix
#: plus the delivery's position, which spares formatting a number per delivery.
_POSITIONS = tuple(str(position) for position in range(1000))


@dataclass(slots=True)
class _ClaimContext:
    """What every claim of one call shares, and what it has handed out so far."""

    state: SubscriptionState
    now: float
    deadline: float
    member_id: str | None
    #: Starts every ack id of this claim: unique to the subscription and the claim.
    ack_id_head: str
    #: Ends the ack id of the delivery at each position of the claim.
    positions: Sequence[str]
    deliveries: list[Delivery] = field(default_factory=list)
    ack_ids: list[str] = field(default_factory=list)

    @classmethod
    def start(
        cls, state: SubscriptionState, now: float, member_id: str | None, limit: int
    ) -> _ClaimContext:
        """The context of a new claim of up to ``limit`` deliveries."""
        deadline = now + state.subscription.ack_deadline_seconds
        # Ack ids only need to be unique within the subscription: the subscription's
        # prefix, the claim's number and the position within the claim are enough.
        head = f"{state.ack_prefix}{next(state.claim_counter):x}."
        positions = _POSITIONS if limit <= len(_POSITIONS) else tuple(map(str, range(limit)))
        return cls(state, now, deadline, member_id, head, positions)

    @property
    def count(self) -> int:
        """How many deliveries the claim has handed out so far."""
        return len(self.deliveries)


class InMemoryDeliveryQueue:
    """DeliveryQueue over the shared in-memory state."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def claim(
        self,
        subscription: Subscription,
        topic: Topic,
        partitions: Sequence[int],
        limit: int,
        now: float,
        member_id: str | None,
    ) -> list[Delivery]:
        sub = subscription_state(self._state, subscription.name)
        if member_id is not None and (sub.group is None or member_id not in sub.group.members):
            raise MemberNotFound(subscription.name, member_id)
        logs = self._state.topics[topic.name].partitions
        held = len(sub.by_member.get(member_id, ()))
        limit = min(limit, subscription.max_in_flight - held)
        context = _ClaimContext.start(sub, now, member_id, limit)
        # A first pass gives each partition a fair share; a second fills what is left.
        share = max(1, -(-limit // max(len(partitions), 1)))
        for quota in (share, limit):
            for partition in partitions:
                room = min(quota, limit - context.count)
                if room > 0:
                    _claim_partition(context, logs[partition], partition, room)
            if context.count >= limit:
                break
        if context.deliveries:
            sub.hold(context.deliveries, context.ack_ids, member_id, context.deadline)
        return context.deliveries

    async def redeliver(
        self, subscription: Subscription, entries: Sequence[Redelivery]
    ) -> list[MessageId]:
        sub = subscription_state(self._state, subscription.name)
        topic = self._state.topics.get(sub.subscription.topic)
        queued: list[MessageId] = []
        for entry in entries:
            partition = partition_of(entry.message_id)
            if topic is None or partition is None or partition >= len(topic.partitions):
                continue
            message = topic.partitions[partition].live.get(entry.message_id)
            if message is not None:
                _queue_redelivery(sub, sub.queues[partition], message, entry)
                queued.append(message.id)
        return queued

    async def seek(self, subscription: Subscription, target: SeekTarget) -> None:
        sub = subscription_state(self._state, subscription.name)
        logs = self._state.topics[subscription.topic].partitions
        for log, queue in zip(logs, sub.queues, strict=True):
            if target.timestamp is not None:
                stamp = target.timestamp
                queue.reset({p: lane.index_at_or_after(stamp) for p, lane in log.lanes.items()})
            else:
                queue.reset(start_cursors(log, target.position or StartPosition.LATEST))
        sub.clear_in_flight()

    async def stats(self, subscription: Subscription, now: float) -> SubscriptionStats:
        sub = subscription_state(self._state, subscription.name)
        topic = self._state.topics.get(sub.subscription.topic)
        logs = topic.partitions if topic else []
        oldest = _oldest_unacked(sub, logs)
        return SubscriptionStats(
            backlog=backlog(sub, logs),
            in_flight=len(sub.in_flight),
            scheduled=scheduled(sub),
            oldest_unacked_age_seconds=max(0.0, now - oldest) if oldest is not None else 0.0,
        )


def _claim_partition(context: _ClaimContext, log: PartitionLog, partition: int, room: int) -> None:
    queue = context.state.queues[partition]
    stop_at = context.count + room
    if queue.scheduled:
        _claim_scheduled(context, log, queue, stop_at)
    if context.count < stop_at:
        _claim_unread(context, log, queue, stop_at)


def _claim_scheduled(
    context: _ClaimContext, log: PartitionLog, queue: PartitionQueue, stop_at: int
) -> None:
    while queue.scheduled and queue.scheduled[0].due <= context.now and context.count < stop_at:
        entry = heapq.heappop(queue.scheduled)
        message = log.live.get(entry.message_id)
        if message is not None:
            _hand_out(context, message, entry.attempts + 1)
        # A message trimmed by retention meanwhile has nothing left to deliver.


def _claim_unread(
    context: _ClaimContext, log: PartitionLog, queue: PartitionQueue, stop_at: int
) -> None:
    if context.state.subscription.ordered:
        _claim_in_publish_order(context, log, queue, stop_at)
        return
    for priority in PRIORITIES_BY_URGENCY:
        lane = log.lanes[priority]
        # Most pulls find most lanes read to their end: look into those that are not.
        if lane.end > queue.cursors[priority]:
            _claim_lane(context, log, queue, priority, lane, stop_at)
            if context.count >= stop_at:
                return


def _claim_lane(
    context: _ClaimContext,
    log: PartitionLog,
    queue: PartitionQueue,
    priority: Priority,
    lane: Lane,
    stop_at: int,
) -> None:
    """Hand out one lane's unread messages: the hot loop of every pull, kept flat (a
    delivery is built here rather than by ``_hand_out``: a call per message shows)."""
    index = max(queue.cursors[priority], lane.head)
    end, entries, base, live, now = lane.end, lane.entries, lane.base, log.live, context.now
    name, deadline = context.state.subscription.name, context.deadline
    head, positions = context.ack_id_head, context.positions
    new, hand_out, add_ack_id = tuple.__new__, context.deliveries.append, context.ack_ids.append
    position = context.count
    while index < end and position < stop_at:
        message = entries[index - base]
        index += 1
        if message.id not in live:
            continue
        if message.deliver_at is not None and message.deliver_at > now:
            queue.schedule(message.deliver_at, message.id, 0)
            continue
        ack_id = head + positions[position]
        # Delivery(message, ack id, attempt 1, ...), built as the tuple it is.
        hand_out(new(Delivery, (message, ack_id, 1, name, deadline)))
        add_ack_id(ack_id)
        position += 1
    queue.cursors[priority] = index


def _claim_in_publish_order(
    context: _ClaimContext, log: PartitionLog, queue: PartitionQueue, stop_at: int
) -> None:
    for message in _read_in_publish_order(log, queue):
        if message.key is not None:
            if message.key in queue.busy_keys:
                queue.held.setdefault(message.key, deque()).append(message.id)
                continue
            queue.busy_keys.add(message.key)
        if not message.is_due(context.now):
            queue.schedule(message.deliver_at or context.now, message.id, 0)
            continue
        _hand_out(context, message, 1)
        if context.count >= stop_at:
            break


def _read_in_publish_order(log: PartitionLog, queue: PartitionQueue) -> Iterator[Message]:
    """Unread live messages across lanes in publish order, advancing cursors as it goes."""
    while True:
        best = None
        for priority, lane in log.lanes.items():
            index = max(queue.cursors[priority], lane.head)
            queue.cursors[priority] = index
            if index < lane.end:
                message = lane.at(index)
                if best is None or _offset(message) < _offset(best[1]):
                    best = (priority, message)
        if best is None:
            return
        queue.cursors[best[0]] += 1
        if best[1].id in log.live:
            yield best[1]


def _offset(message: Message) -> int:
    # Memory ids are "{partition}-{offset}" with offsets counting up in publish order.
    return int(message.id.rpartition("-")[2])


def _hand_out(context: _ClaimContext, message: Message, attempt: int) -> None:
    ack_id = context.ack_id_head + context.positions[context.count]
    context.deliveries.append(
        Delivery(message, AckId(ack_id), attempt, context.state.subscription.name, context.deadline)
    )
    context.ack_ids.append(ack_id)


def _queue_redelivery(
    sub: SubscriptionState, queue: PartitionQueue, message: Message, entry: Redelivery
) -> None:
    key = message.key if sub.subscription.ordered else None
    if key is not None and key in queue.busy_keys:
        # The key's current message goes first; this one waits at the head of the line.
        queue.held.setdefault(key, deque()).appendleft(message.id)
        return
    if key is not None:
        queue.busy_keys.add(key)
    queue.schedule(entry.due_at, message.id, entry.attempts)


def _oldest_unacked(sub: SubscriptionState, logs: Sequence[PartitionLog]) -> float | None:
    stamps: list[float] = []
    for log, queue in zip(logs, sub.queues, strict=False):
        for priority, lane in log.lanes.items():
            index = max(queue.cursors[priority], lane.head)
            if index < lane.end:
                stamps.append(lane.at(index).published_at)
        stamps.extend(_published_at(log, e.message_id) for e in queue.scheduled)
    stamps.extend(delivery.message.published_at for delivery, _ in sub.in_flight.values())
    return min(stamps, default=None)


def _published_at(log: PartitionLog, id_: MessageId) -> float:
    message = log.live.get(id_)
    return message.published_at if message is not None else float("inf")
