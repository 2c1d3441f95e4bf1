"""The in-memory backend: the embedded default, all state in this process."""

from __future__ import annotations

from pubsubgo.adapters.memory.deliveries import InMemoryDeliveryQueue
from pubsubgo.adapters.memory.groups import InMemoryGroupStore
from pubsubgo.adapters.memory.in_flight import InMemoryInFlightLedger
from pubsubgo.adapters.memory.message_log import InMemoryMessageLog
from pubsubgo.adapters.memory.signal import InMemorySignal
from pubsubgo.adapters.memory.state import MemoryState
from pubsubgo.adapters.memory.subscriptions import InMemorySubscriptionRegistry
from pubsubgo.adapters.memory.topics import InMemoryTopicRegistry
from pubsubgo.ports.storage import Storage


class InMemoryConnection:
    """StorageConnection of the in-memory backend: memory always answers, and there is
    nothing to close."""

    async def ping(self) -> None:
        return None

    async def aclose(self) -> None:
        return None


def memory_storage() -> Storage:
    """A fresh, empty in-memory backend."""
    state = MemoryState()
    return Storage(
        topics=InMemoryTopicRegistry(state),
        messages=InMemoryMessageLog(state),
        subscriptions=InMemorySubscriptionRegistry(state),
        deliveries=InMemoryDeliveryQueue(state),
        in_flight=InMemoryInFlightLedger(state),
        groups=InMemoryGroupStore(state),
        signal=InMemorySignal(),
        connection=InMemoryConnection(),
    )
