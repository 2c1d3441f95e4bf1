"""InMemorySubscriptionRegistry: subscriptions and their read positions in memory."""

from __future__ import annotations

from pubsubgo.adapters.memory.state import (
    MemoryState,
    PartitionLog,
    PartitionQueue,
    SubscriptionState,
)
from pubsubgo.adapters.memory.topics import page_of_names, topic_state
from pubsubgo.core.errors import SubscriptionAlreadyExists, SubscriptionNotFound
from pubsubgo.core.messages import Priority
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.subscriptions import StartPosition, Subscription


class InMemorySubscriptionRegistry:
    """SubscriptionRegistry over the shared in-memory state."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def create(self, subscription: Subscription) -> None:
        if subscription.name in self._state.subscriptions:
            raise SubscriptionAlreadyExists(subscription.name)
        topic = topic_state(self._state, subscription.topic)
        queues = [
            PartitionQueue(cursors=start_cursors(log, subscription.start))
            for log in topic.partitions
        ]
        self._state.subscriptions[subscription.name] = SubscriptionState(subscription, queues)
        if subscription.max_backlog:
            topic.bounded.append(subscription.name)

    async def get(self, name: str) -> Subscription:
        return subscription_state(self._state, name).subscription

    async def list(
        self, topic: str | None = None, page: NamePage = EVERY_NAME
    ) -> list[Subscription]:
        subs = self._state.subscriptions

        def of_topic(name: str) -> bool:
            return topic is None or subs[name].subscription.topic == topic

        return [subs[n].subscription for n in page_of_names(subs, page, of_topic)]

    async def delete(self, name: str) -> None:
        subscription = subscription_state(self._state, name).subscription
        del self._state.subscriptions[name]
        topic = self._state.topics.get(subscription.topic)
        if topic is not None and name in topic.bounded:
            topic.bounded.remove(name)


def start_cursors(log: PartitionLog, start: StartPosition) -> dict[Priority, int]:
    """Cursors at the first retained message (earliest) or past the last one (latest)."""
    if start == StartPosition.EARLIEST:
        return {priority: lane.head for priority, lane in log.lanes.items()}
    return {priority: lane.end for priority, lane in log.lanes.items()}


def subscription_state(state: MemoryState, name: str) -> SubscriptionState:
    """The state of subscription ``name``, or SubscriptionNotFound."""
    try:
        return state.subscriptions[name]
    except KeyError:
        raise SubscriptionNotFound(name) from None
