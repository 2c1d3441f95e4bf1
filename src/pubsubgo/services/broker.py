"""Broker: the services an edge calls, as one object, and the background duties."""

from __future__ import annotations

from dataclasses import dataclass

from pubsubgo.services.acknowledgment import AckService
from pubsubgo.services.groups import GroupService
from pubsubgo.services.health import HealthService
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
    """The broker's driving API: what the HTTP, WebSocket and gRPC edges call.

    ``containers.build_broker`` wires it to a storage backend.
    """

    topics: TopicService
    subscriptions: SubscriptionService
    publisher: PublisherService
    subscriber: SubscriberService
    acks: AckService
    groups: GroupService
    health: HealthService

    async def run_duties(self) -> DutyReport:
        """One round of the background duties: expiries, evictions, retention."""
        return DutyReport(
            redelivered=await self.acks.redeliver_overdue(),
            evicted=await self.groups.evict_expired(),
            trimmed=await self.topics.trim_retention(),
        )
