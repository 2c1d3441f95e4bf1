"""SubscriberService: pulls messages for consumers, applying filters, TTL and delivery modes."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

from pubsubgo.core.errors import InvalidArgument, MemberNotFound
from pubsubgo.core.filters import MATCH_ALL, parse_filter
from pubsubgo.core.messages import AckId, Compression, Delivery, DeliveryMode
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.deliveries import DeliveryQueue
from pubsubgo.ports.groups import GroupStore
from pubsubgo.ports.in_flight import InFlightLedger
from pubsubgo.ports.metrics import BrokerMetrics
from pubsubgo.ports.subscriptions import SubscriptionRegistry
from pubsubgo.ports.topics import TopicRegistry
from pubsubgo.ports.tracing import MessageTracer
from pubsubgo.services.compression import unpacked
from pubsubgo.services.tracing import NullTracer
from pubsubgo.services.waiting import Line, LineKey, WaitingRoom

#: DESIGN §3: a pull asks for 1..1000 messages and waits at most 30 seconds.
MAX_PULL_MESSAGES = 1000
MAX_PULL_WAIT_SECONDS = 30.0

#: Filters are parsed once per distinct expression, not once per pull.
compiled_filter = functools.lru_cache(maxsize=4096)(parse_filter)


@dataclass(frozen=True, slots=True)
class _Sorted:
    """A claimed batch split into what goes to the consumer and what is settled at once."""

    deliveries: list[Delivery]
    settle: list[AckId]
    expired: int
    #: Deliveries after the first attempt, among ``deliveries``.
    redelivered: int


class SubscriberService:
    """Hands messages to consumers of a subscription."""

    def __init__(
        self,
        topics: TopicRegistry,
        subscriptions: SubscriptionRegistry,
        deliveries: DeliveryQueue,
        in_flight: InFlightLedger,
        groups: GroupStore,
        waiting: WaitingRoom,
        clock: Clock,
        metrics: BrokerMetrics,
        tracer: MessageTracer | None = None,
    ) -> None:
        self._topics = topics
        self._subscriptions = subscriptions
        self._deliveries = deliveries
        self._in_flight = in_flight
        self._groups = groups
        self._waiting = waiting
        self._clock = clock
        self._metrics = metrics
        self._tracer = tracer or NullTracer()

    async def pull(
        self,
        subscription: str,
        max_messages: int = 100,
        wait_seconds: float = 0.0,
        member_id: str | None = None,
        *,
        within_room: bool = False,
    ) -> list[Delivery]:
        """Up to ``max_messages`` deliveries; waits up to ``wait_seconds`` for the first one.

        Args:
            within_room: the caller asks only for what its member has room for under
                ``max_in_flight`` (its wait is shared with the others of its kind).

        Raises:
            SubscriptionNotFound: no such subscription.
            MemberNotFound: ``member_id`` is not (or no longer) in the group: checked when
                the pull starts and at each look while it waits.
            InvalidArgument: ``max_messages`` or ``wait_seconds`` out of range.
        """
        _check_pull(max_messages, wait_seconds)
        sub = await self._subscriptions.get(subscription)
        topic = await self._topics.get(sub.topic)
        partitions = await self._partitions_for(sub, topic, member_id)
        if wait_seconds <= 0:
            return (await self._fill(sub, topic, partitions, max_messages, member_id))[0]
        holder = None if within_room else (member_id or "")
        line = self._waiting.enter(topic.name, _line_key(sub, partitions, holder))
        lines = [line]
        try:
            return await self._wait_in_line(
                lines, sub, topic, max_messages, wait_seconds, member_id, partitions
            )
        finally:
            self._waiting.leave(lines[0])

    async def _wait_in_line(
        self,
        lines: list[Line],
        sub: Subscription,
        topic: Topic,
        max_messages: int,
        wait_seconds: float,
        member_id: str | None,
        partitions: Sequence[int],
    ) -> list[Delivery]:
        """Claim when it may find something (not while the line is quiet), wait for the
        line's turn otherwise, until something comes or ``wait_seconds`` pass. ``lines``
        holds the line the pull stands in (another one if its partitions change)."""
        give_up_at = self._clock.monotonic() + wait_seconds
        line = lines[0]
        while True:
            if not line.quiet:
                found = await self._claim(line, sub, topic, partitions, max_messages, member_id)
                if found is None:
                    continue  # news came during the claim and nobody else will look
                if found:
                    return found
            remaining = give_up_at - self._clock.monotonic()
            if remaining <= 0:
                return []
            await self._waiting.wait(line, remaining)
            if sub.ordered and line.reread:
                partitions = await self._reread(lines, sub, topic, member_id, partitions)
                line = lines[0]

    async def _reread(
        self,
        lines: list[Line],
        sub: Subscription,
        topic: Topic,
        member_id: str | None,
        partitions: Sequence[int],
    ) -> Sequence[int]:
        """An ordered subscription's assignment may have changed while the pull waited (a
        rebalance here, or a recheck): its partitions now, the pull moved to their line.
        Otherwise the membership checked when the pull began holds for the whole wait: the
        group is read once per pull, not once per message's news."""
        lines[0].reread = False
        moved = await self._partitions_for(sub, topic, member_id)
        if moved != partitions:
            lines[0] = self._waiting.move(lines[0], _line_key(sub, moved, lines[0].key[2]))
        return moved

    async def _claim(
        self,
        line: Line,
        sub: Subscription,
        topic: Topic,
        partitions: Sequence[int],
        max_messages: int,
        member_id: str | None,
    ) -> list[Delivery] | None:
        """One claim as the line's turn; None when it found nothing but must look again."""
        waiting = self._waiting
        waiting.begin_claim(line)
        try:
            deliveries, full = await self._fill(sub, topic, partitions, max_messages, member_id)
        except BaseException:
            waiting.abandon_claim(line)
            raise
        again = waiting.end_claim(line, full=full)
        return None if again and not deliveries else deliveries

    async def _fill(
        self,
        sub: Subscription,
        topic: Topic,
        partitions: Sequence[int],
        max_messages: int,
        member_id: str | None,
    ) -> tuple[list[Delivery], bool]:
        """What one pull hands out, and whether the last claim took all it asked for (so
        more may be left)."""
        if not partitions:
            return [], False
        while True:
            now = self._clock.now()
            claims = await self._deliveries.claim(
                sub, topic, partitions, max_messages, now, member_id
            )
            batch = _sort_claims(sub, claims, now)
            if batch.settle:
                await self._in_flight.settle(sub.name, batch.settle, now, force=True)
            if batch.expired:
                self._metrics.expired(sub.topic, sub.name, batch.expired)
            # Claims that were all filtered out or expired say nothing about what is left.
            if batch.deliveries or not claims:
                delivered = len(batch.deliveries)
                self._metrics.delivered(sub.topic, sub.name, delivered, batch.redelivered)
                if batch.deliveries:
                    self._tracer.delivered(batch.deliveries)
                return batch.deliveries, len(claims) >= max_messages

    async def _partitions_for(
        self, sub: Subscription, topic: Topic, member_id: str | None
    ) -> Sequence[int]:
        everything = range(topic.partitions)
        if not sub.ordered:
            # Every member reads every partition; the claim refuses a member that is not in
            # the group (DeliveryQueue.claim), which saves reading the group per pull.
            return everything
        group = await self._groups.load(sub.name)
        if member_id is not None and member_id not in group.members:
            raise MemberNotFound(sub.name, member_id)
        if member_id is not None:
            return group.assignment.get(member_id, ())
        # Pulls without a member take the partitions no member owns.
        owned = {p for parts in group.assignment.values() for p in parts}
        return [p for p in everything if p not in owned]


def _line_key(sub: Subscription, partitions: Sequence[int], holder: str | None) -> LineKey:
    return (sub.name, tuple(partitions) if sub.ordered else None, holder)


def _sort_claims(sub: Subscription, claims: Sequence[Delivery], now: float) -> _Sorted:
    accepts = compiled_filter(sub.filter)
    everything = accepts is MATCH_ALL
    deliveries: list[Delivery] = []
    settle: list[AckId] = []
    expired = redelivered = 0
    for claim in claims:
        message = claim.message
        if message.expires_at is not None and message.is_expired(now):
            expired += 1
            settle.append(claim.ack_id)
        elif not (everything or accepts.matches(message.attributes, message.key)):
            settle.append(claim.ack_id)
        else:
            if message.delivery_mode is _AT_MOST_ONCE:
                settle.append(claim.ack_id)
            if message.compression is not _UNCOMPRESSED:
                claim = claim._replace(message=unpacked(message))
            if claim.delivery_attempt > 1:
                redelivered += 1
            deliveries.append(claim)
    return _Sorted(deliveries, settle, expired, redelivered)


#: Enum members looked up once: a class attribute lookup on an Enum is slow in a loop that
#: runs once per delivered message.
_AT_MOST_ONCE = DeliveryMode.AT_MOST_ONCE
_UNCOMPRESSED = Compression.NONE


def _check_pull(max_messages: int, wait_seconds: float) -> None:
    if not 1 <= max_messages <= MAX_PULL_MESSAGES:
        raise InvalidArgument(f"max_messages must be 1..{MAX_PULL_MESSAGES}", field="max_messages")
    if not 0 <= wait_seconds <= MAX_PULL_WAIT_SECONDS:
        raise InvalidArgument("wait_seconds must be 0..30", field="wait_seconds")
