"""Broker: every service wired to one storage backend, and the background duties."""

from __future__ import annotations

from dataclasses import dataclass

from pubsubgo.core.groups import GroupSettings
from pubsubgo.core.limits import Limits
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.metrics import BrokerMetrics
from pubsubgo.ports.storage import Storage
from pubsubgo.ports.tracing import MessageTracer
from pubsubgo.services.acknowledgment import AckService
from pubsubgo.services.dead_letters import DeadLetterService
from pubsubgo.services.groups import GroupService
from pubsubgo.services.metrics import NullMetrics
from pubsubgo.services.publisher import PublisherService
from pubsubgo.services.subscriber import SubscriberService
from pubsubgo.services.subscriptions import SubscriptionService
from pubsubgo.services.topics import TopicService


@dataclass(frozen=True, slots=True)
class DutyReport:
    """What one round of background duties did."""

    redelivered: int
    evicted: int
    trimmed: int


@dataclass(frozen=True, slots=True)
class Broker:
    """The broker's driving API: what the HTTP, WebSocket and CLI edges call."""

    storage: Storage
    topics: TopicService
    subscriptions: SubscriptionService
    publisher: PublisherService
    subscriber: SubscriberService
    acks: AckService
    groups: GroupService

    @classmethod
    def build(
        cls,
        storage: Storage,
        clock: Clock,
        metrics: BrokerMetrics | None = None,
        limits: Limits | None = None,
        group_settings: GroupSettings | None = None,
        tracer: MessageTracer | None = None,
    ) -> Broker:
        """Wire every service to ``storage``."""
        metrics = metrics or NullMetrics()
        s = storage
        publisher = PublisherService(s.topics, s.messages, s.signal, clock, metrics, limits, tracer)
        dead_letters = DeadLetterService(publisher, s.messages, s.in_flight, clock, metrics)
        acks = AckService(s.subscriptions, s.in_flight, dead_letters, s.signal, clock, metrics)
        return cls(
            storage=storage,
            topics=TopicService(s.topics, s.subscriptions, s.messages, clock),
            subscriptions=SubscriptionService(
                s.topics, s.subscriptions, s.messages, s.deliveries, s.groups, s.signal, clock
            ),
            publisher=publisher,
            subscriber=SubscriberService(
                s.topics,
                s.subscriptions,
                s.deliveries,
                s.in_flight,
                s.groups,
                s.signal,
                clock,
                metrics,
                tracer,
            ),
            acks=acks,
            groups=GroupService(
                s.topics, s.subscriptions, s.groups, acks, clock, metrics, group_settings
            ),
        )

    async def run_duties(self) -> DutyReport:
        """One round of the background duties: expiries, evictions, retention."""
        return DutyReport(
            redelivered=await self.acks.redeliver_overdue(),
            evicted=await self.groups.evict_expired(),
            trimmed=await self.topics.trim_retention(),
        )
