"""Storage: the set of ports one backend provides together."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from pubsubgo.ports.deliveries import DeliveryQueue
from pubsubgo.ports.groups import GroupStore
from pubsubgo.ports.in_flight import InFlightLedger
from pubsubgo.ports.message_log import MessageLog
from pubsubgo.ports.signals import MessageSignal
from pubsubgo.ports.subscriptions import SubscriptionRegistry
from pubsubgo.ports.topics import TopicRegistry


class HealthCheck(Protocol):
    """Says whether storage answers."""

    async def ping(self) -> None:
        """Return when storage answered.

        Raises:
            BackendUnavailable: it did not, within a bounded time.
        """
        ...


@dataclass(frozen=True, slots=True)
class Storage:
    """One backend's implementation of every storage port."""

    topics: TopicRegistry
    messages: MessageLog
    subscriptions: SubscriptionRegistry
    deliveries: DeliveryQueue
    in_flight: InFlightLedger
    groups: GroupStore
    signal: MessageSignal
    health: HealthCheck
