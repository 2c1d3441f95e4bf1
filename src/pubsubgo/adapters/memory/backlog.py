"""A subscription's backlog in memory: how many messages it holds unsettled, and skipping
its oldest undelivered ones (``max_backlog`` with overflow ``drop_oldest``)."""

from __future__ import annotations

from collections.abc import Sequence

from pubsubgo.adapters.memory.state import Lane, PartitionLog, PartitionQueue, SubscriptionState
from pubsubgo.core.messages import Message, Priority


def unread(log: PartitionLog, queue: PartitionQueue) -> int:
    """Messages of one partition the subscription has not read yet."""
    return sum(lane.end - max(queue.cursors[p], lane.head) for p, lane in log.lanes.items())


def scheduled(sub: SubscriptionState) -> int:
    """Messages waiting for a redelivery, a delay or their key's turn."""
    return sum(len(q.scheduled) + sum(map(len, q.held.values())) for q in sub.queues)


def backlog(sub: SubscriptionState, logs: Sequence[PartitionLog]) -> int:
    """Everything the subscription has not settled: unread, scheduled and in flight."""
    waiting = sum(unread(log, queue) for log, queue in zip(logs, sub.queues, strict=False))
    return waiting + scheduled(sub) + len(sub.in_flight)


def skip_oldest(sub: SubscriptionState, logs: Sequence[PartitionLog], count: int) -> int:
    """Move the subscription's read positions past its ``count`` oldest unread messages
    (by publish time, then partition, then publish order); returns how many it skipped.
    Messages in flight or scheduled stay: they are not taken from their consumer."""
    skipped = 0
    while skipped < count:
        oldest: tuple[tuple[float, int, int], PartitionQueue, Priority] | None = None
        for partition, (log, queue) in enumerate(zip(logs, sub.queues, strict=False)):
            for priority, lane in log.lanes.items():
                message = _next_unread(log, lane, queue, priority)
                if message is None:
                    continue
                rank = (message.published_at, partition, queue.cursors[priority])
                if oldest is None or rank < oldest[0]:
                    oldest = (rank, queue, priority)
        if oldest is None:
            return skipped
        _, queue, priority = oldest
        queue.cursors[priority] += 1
        skipped += 1
    return skipped


def _next_unread(
    log: PartitionLog, lane: Lane, queue: PartitionQueue, priority: Priority
) -> Message | None:
    """The lane's next unread live message, moving the cursor past removed ones."""
    index = max(queue.cursors[priority], lane.head)
    while index < lane.end:
        message = lane.at(index)
        if message.id in log.live:
            queue.cursors[priority] = index
            return message
        index += 1
    queue.cursors[priority] = index
    return None
