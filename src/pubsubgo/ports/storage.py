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


class StorageConnection(Protocol):
    """The backend's link to where it keeps things: is it answering, and closing it."""

    async def ping(self) -> None:
        """Return when storage answered.

        Raises:
            BackendUnavailable: it did not, within a bounded time.
        """
        ...

    async def aclose(self) -> None:
        """Stop what the backend started (listener tasks, pools). Idempotent; the storage
        is not used afterwards. A client handed to the backend stays its owner's to close."""
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
    connection: StorageConnection

    async def aclose(self) -> None:
        """Close the backend (see :meth:`StorageConnection.aclose`)."""
        await self.connection.aclose()
