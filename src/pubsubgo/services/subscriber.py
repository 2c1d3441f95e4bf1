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
from pubsubgo.ports.signals import MessageSignal
from pubsubgo.ports.subscriptions import SubscriptionRegistry
from pubsubgo.ports.topics import TopicRegistry
from pubsubgo.ports.tracing import MessageTracer
from pubsubgo.services.compression import unpacked
from pubsubgo.services.tracing import NullTracer

#: DESIGN §3: a pull asks for 1..1000 messages and waits at most 30 seconds.
MAX_PULL_MESSAGES = 1000
MAX_PULL_WAIT_SECONDS = 30.0
#: A long poll also looks again this often, because delayed messages and retries become due
#: with the passing of time rather than with a publish that would wake it.
LONG_POLL_RECHECK_SECONDS = 0.25

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
        signal: MessageSignal,
        clock: Clock,
        metrics: BrokerMetrics,
        tracer: MessageTracer | None = None,
    ) -> None:
        self._topics = topics
        self._subscriptions = subscriptions
        self._deliveries = deliveries
        self._in_flight = in_flight
        self._groups = groups
        self._signal = signal
        self._clock = clock
        self._metrics = metrics
        self._tracer = tracer or NullTracer()

    async def pull(
        self,
        subscription: str,
        max_messages: int = 100,
        wait_seconds: float = 0.0,
        member_id: str | None = None,
    ) -> list[Delivery]:
        """Up to ``max_messages`` deliveries; waits up to ``wait_seconds`` for the first one.

        Raises:
            SubscriptionNotFound: no such subscription.
            MemberNotFound: ``member_id`` is not (or no longer) in the group: checked when
                the pull starts and at each look while it waits.
            InvalidArgument: ``max_messages`` or ``wait_seconds`` out of range.
        """
        _check_pull(max_messages, wait_seconds)
        sub = await self._subscriptions.get(subscription)
        topic = await self._topics.get(sub.topic)
        give_up_at = self._clock.monotonic() + wait_seconds
        partitions = await self._partitions_for(sub, topic, member_id)
        while True:
            deliveries = await self._fill(sub, topic, partitions, max_messages, member_id)
            remaining = give_up_at - self._clock.monotonic()
            if deliveries or remaining <= 0:
                return deliveries
            await self._signal.wait(topic.name, within=min(remaining, LONG_POLL_RECHECK_SECONDS))
            if sub.ordered:
                # An ordered subscription's assignment may change while it waits. Otherwise
                # the membership checked when the pull began holds for the whole wait: the
                # group is read once per pull, not once per wake-up (a consumer streaming
                # one message at a time wakes once per message).
                partitions = await self._partitions_for(sub, topic, member_id)

    async def _fill(
        self,
        sub: Subscription,
        topic: Topic,
        partitions: Sequence[int],
        max_messages: int,
        member_id: str | None,
    ) -> list[Delivery]:
        if not partitions:
            return []
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
                return batch.deliveries

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
