"""The data structures behind the in-memory backend.

A partition keeps one *lane* per priority: an append-only list of messages in publish order,
addressed by absolute index so that readers keep integer cursors and trimming the front is
amortised O(1). Live messages are also indexed by id (a dict keeps publish order), so a
removed message is simply missing from the index and readers skip it.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import secrets
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from pubsubgo.core.groups import GroupState
from pubsubgo.core.messages import (
    AckId,
    Delivery,
    DeliveryMode,
    Message,
    MessageId,
    Priority,
)
from pubsubgo.core.subscriptions import InFlight, Subscription
from pubsubgo.core.topics import Topic

#: Compact a lane once this many dead entries sit in front of its list.
_COMPACT_AFTER = 1024
#: The last three digits of offsets, as the first thousand ids end ("7") and the others
#: ("007").
_DIGITS = tuple(str(n) for n in range(1000))
_PADDED_DIGITS = tuple(f"{n:03d}" for n in range(1000))


@dataclass(slots=True)
class Lane:
    """One priority level of one partition: messages in publish order."""

    entries: list[Message] = field(default_factory=list)
    #: Absolute index of ``entries[0]``.
    base: int = 0
    #: Offset into ``entries`` of the first entry not trimmed.
    start: int = 0

    @property
    def head(self) -> int:
        """Absolute index of the first entry not trimmed."""
        return self.base + self.start

    @property
    def end(self) -> int:
        """Absolute index one past the last entry."""
        return self.base + len(self.entries)

    def at(self, index: int) -> Message:
        return self.entries[index - self.base]

    def append(self, message: Message) -> None:
        self.entries.append(message)

    def drop_front(self) -> None:
        """Forget the first entry; compact the list once enough are forgotten."""
        self.start += 1
        if self.start >= _COMPACT_AFTER and self.start * 2 >= len(self.entries):
            del self.entries[: self.start]
            self.base += self.start
            self.start = 0

    def index_at_or_after(self, timestamp: float) -> int:
        """Absolute index of the first entry published at or after ``timestamp``."""
        offset = bisect.bisect_left(
            self.entries, timestamp, lo=self.start, key=lambda m: m.published_at
        )
        return self.base + offset


@dataclass(slots=True)
class PartitionLog:
    """A partition's messages: a lane per priority plus an index of the live ones."""

    #: What every message id of this partition starts with: ``"{partition}-"``.
    id_prefix: str
    lanes: dict[Priority, Lane] = field(default_factory=lambda: {p: Lane() for p in Priority})
    #: Live messages by id, in publish order. Keyed by ``str`` rather than ``MessageId`` so
    #: that the append loop can store a formatted id without a call per message.
    live: dict[str, Message] = field(default_factory=dict)
    next_offset: int = 0
    #: The ids of the current thousand offsets are ``id_head + id_tails[offset % 1000]``:
    #: joining two strings costs a third of formatting the offset for every message.
    id_head: str = ""
    id_tails: tuple[str, ...] = ()

    def start_thousand(self, offset: int) -> None:
        """Prepare ``id_head`` and ``id_tails`` for the thousand offsets from ``offset`` (a
        multiple of 1000)."""
        thousands = offset // 1000
        if thousands:
            self.id_head, self.id_tails = f"{self.id_prefix}{thousands}", _PADDED_DIGITS
        else:
            self.id_head, self.id_tails = self.id_prefix, _DIGITS

    def oldest_live(self, lane: Lane) -> Message | None:
        """The lane's first live message, forgetting dead entries in front of it."""
        while lane.head < lane.end:
            message = lane.at(lane.head)
            if message.id in self.live:
                return message
            lane.drop_front()
        return None

    def oldest(self) -> Message | None:
        """The partition's oldest live message across lanes."""
        heads = (self.oldest_live(lane) for lane in self.lanes.values())
        candidates = [m for m in heads if m is not None]
        return min(candidates, key=lambda m: m.published_at, default=None)


@dataclass(slots=True)
class TopicState:
    """A topic with its partitions, dedup records and counters."""

    topic: Topic
    partitions: list[PartitionLog]
    #: dedup_id -> (first message id, expiry time).
    dedup: dict[str, tuple[MessageId, float]] = field(default_factory=dict)
    dedup_expiry: list[tuple[float, str]] = field(default_factory=list)
    stored_count: int = 0
    stored_bytes: int = 0
    publish_count: int = 0
    last_publish_at: float | None = None
    #: Its subscriptions with a ``max_backlog``, which every publish checks.
    bounded: list[str] = field(default_factory=list)

    @classmethod
    def new(cls, topic: Topic) -> TopicState:
        return cls(topic, [PartitionLog(f"{p}-") for p in range(topic.partitions)])

    def forget_dedup_before(self, now: float) -> None:
        """Drop dedup records whose window has closed."""
        while self.dedup_expiry and self.dedup_expiry[0][0] <= now:
            _, dedup_id = heapq.heappop(self.dedup_expiry)
            record = self.dedup.get(dedup_id)
            if record is not None and record[1] <= now:
                del self.dedup[dedup_id]


@dataclass(order=True, slots=True)
class Scheduled:
    """A message of one subscription waiting until ``due`` (retry, delay, redrive, release)."""

    due: float
    seq: int
    message_id: MessageId = field(compare=False)
    attempts: int = field(compare=False)


@dataclass(slots=True)
class PartitionQueue:
    """One subscription's reading state in one partition."""

    #: Next absolute lane index to read, per priority.
    cursors: dict[Priority, int]
    scheduled: list[Scheduled] = field(default_factory=list)
    #: Ordered subscriptions: keys with a message in flight or scheduled...
    busy_keys: set[str] = field(default_factory=set)
    #: ...and, per key, the messages waiting for it, in publish order.
    held: dict[str, deque[MessageId]] = field(default_factory=dict)

    def schedule(self, due: float, message_id: MessageId, attempts: int) -> None:
        heapq.heappush(self.scheduled, Scheduled(due, next(_SEQUENCE), message_id, attempts))

    def release_key(self, key: str, now: float) -> None:
        """The key's current message is settled: let its next held message go, or free it."""
        waiting = self.held.get(key)
        if waiting:
            self.schedule(now, waiting.popleft(), 0)
            if not waiting:
                del self.held[key]
        else:
            self.busy_keys.discard(key)

    def reset(self, cursors: dict[Priority, int]) -> None:
        self.cursors = cursors
        self.scheduled.clear()
        self.busy_keys.clear()
        self.held.clear()


#: An in-flight delivery with the member holding it (None: pulled without a member).
Holding = tuple[Delivery, str | None]
#: Ties in a schedule heap break in insertion order.
_SEQUENCE = itertools.count()


@dataclass(slots=True)
class SubscriptionState:
    """A subscription with its queues, in-flight deliveries and group."""

    subscription: Subscription
    queues: list[PartitionQueue]
    #: Each delivery handed out and not yet settled, with the member holding it. Ack ids are
    #: plain ``str`` here, as the claim loop builds them (an AckId() call per delivery shows).
    in_flight: dict[str, Holding] = field(default_factory=dict)
    #: (deadline, seq, ack ids) per claimed batch or extension; an ack id whose delivery is
    #: gone or whose deadline moved is skipped when its entry comes up.
    deadlines: list[tuple[float, int, tuple[str, ...]]] = field(default_factory=list)
    by_member: dict[str | None, set[str]] = field(default_factory=dict)
    group: GroupState | None = None
    #: Numbers the claims; an ack id names its claim and its position in it.
    claim_counter: Iterator[int] = field(default_factory=itertools.count)
    #: Makes ack ids of a re-created subscription differ from the old one's.
    ack_prefix: str = field(default_factory=lambda: secrets.token_hex(3))

    def hold(
        self,
        deliveries: list[Delivery],
        ack_ids: list[str],
        member_id: str | None,
        deadline: float,
    ) -> None:
        """Record deliveries just handed out to ``member_id``, all due by ``deadline``.

        ``ack_ids`` are the deliveries' own, in the same order (the claim collects them as it
        goes, which costs less than reading them back from the deliveries)."""
        holdings = zip(deliveries, itertools.repeat(member_id))
        self.in_flight.update(zip(ack_ids, holdings, strict=True))
        self.by_member.setdefault(member_id, set()).update(ack_ids)
        self.watch(deadline, tuple(ack_ids))

    def watch(self, deadline: float, ack_ids: tuple[str, ...]) -> None:
        """Have ``overdue`` look at these deliveries once ``deadline`` passes."""
        heapq.heappush(self.deadlines, (deadline, next(_SEQUENCE), ack_ids))

    def drop(self, ack_id: AckId) -> Holding | None:
        """Forget an in-flight delivery; returns it, or None if it was not in flight."""
        holding = self.in_flight.pop(ack_id, None)
        if holding is not None:
            self.by_member.get(holding[1], set()).discard(ack_id)
        return holding

    def record(self, holding: Holding) -> InFlight:
        """The port's view of an in-flight delivery."""
        delivery, member_id = holding
        message = delivery.message
        return InFlight(
            delivery.ack_id,
            message.id,
            message.partition,
            delivery.delivery_attempt,
            delivery.deadline,
            member_id,
            message.key if self.subscription.ordered else None,
            message.delivery_mode is DeliveryMode.EXACTLY_ONCE,
            message.published_at,
        )

    def clear_in_flight(self) -> None:
        self.in_flight.clear()
        self.deadlines.clear()
        self.by_member.clear()


@dataclass(slots=True)
class MemoryState:
    """Everything the in-memory backend knows, shared by its port adapters."""

    topics: dict[str, TopicState] = field(default_factory=dict)
    subscriptions: dict[str, SubscriptionState] = field(default_factory=dict)
