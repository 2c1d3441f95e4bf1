"""SubscriptionService: creating, describing, seeking subscriptions, and redriving or purging
their dead letters."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace

from pubsubgo.core.errors import InvalidArgument, InvalidSetting, TopicNotFound
from pubsubgo.core.groups import GroupState
from pubsubgo.core.messages import Message, MessageId
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.subscriptions import Redelivery, StartPosition, Subscription, SubscriptionStats
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.deliveries import DeliveryQueue, SeekTarget
from pubsubgo.ports.groups import GroupStore
from pubsubgo.ports.message_log import MessageLog
from pubsubgo.ports.subscriptions import SubscriptionRegistry
from pubsubgo.ports.topics import TopicRegistry
from pubsubgo.services.subscriber import compiled_filter
from pubsubgo.services.waiting import WaitingRoom

#: Redrive reads the dead-letter topic in pages of this many messages.
REDRIVE_PAGE = 1000


@dataclass(frozen=True, slots=True)
class SubscriptionDescription:
    """A subscription with its backlog and its group."""

    subscription: Subscription
    stats: SubscriptionStats
    group: GroupState


class SubscriptionService:
    """Manages subscriptions."""

    def __init__(
        self,
        topics: TopicRegistry,
        subscriptions: SubscriptionRegistry,
        messages: MessageLog,
        deliveries: DeliveryQueue,
        groups: GroupStore,
        waiting: WaitingRoom,
        clock: Clock,
    ) -> None:
        self._topics = topics
        self._subscriptions = subscriptions
        self._messages = messages
        self._deliveries = deliveries
        self._groups = groups
        self._waiting = waiting
        self._clock = clock

    async def create(self, subscription: Subscription) -> Subscription:
        """Create a subscription positioned per its ``start``.

        Raises:
            TopicNotFound: its topic does not exist.
            SubscriptionAlreadyExists: the name is taken.
            InvalidFilter: the filter does not parse.
            InvalidSetting: the dead-letter topic is missing or is the topic itself.
        """
        compiled_filter(subscription.filter)
        await self._topics.get(subscription.topic)
        await self._check_dead_letter_topic(subscription)
        created = replace(subscription, created_at=self._clock.now())
        await self._subscriptions.create(created)
        return created

    async def list(
        self, topic: str | None = None, page: NamePage = EVERY_NAME
    ) -> list[Subscription]:
        """The subscriptions of ``page`` (every one by default), of ``topic`` when given,
        sorted by name."""
        return await self._subscriptions.list(topic, page)

    async def get(self, name: str) -> Subscription:
        """The subscription named ``name``.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        return await self._subscriptions.get(name)

    async def describe(self, name: str) -> SubscriptionDescription:
        """The subscription, its backlog and its group.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        subscription = await self._subscriptions.get(name)
        stats = await self._deliveries.stats(subscription, self._clock.now())
        group = await self._groups.load(name)
        if not subscription.ordered:  # members share every partition
            group = group.shared((await self._topics.get(subscription.topic)).partitions)
        return SubscriptionDescription(subscription, stats, group)

    async def delete(self, name: str) -> None:
        """Delete the subscription with everything in flight.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        await self._subscriptions.delete(name)

    async def seek(
        self, name: str, position: str | None = None, timestamp: float | None = None
    ) -> None:
        """Move to ``earliest``, ``latest`` or the first message at/after ``timestamp``.

        What was in flight or waiting for redelivery is dropped: messages before the new
        position count as acknowledged, messages after it are delivered again.

        Raises:
            SubscriptionNotFound: no such subscription.
            InvalidArgument: neither or both of ``position`` and ``timestamp``.
        """
        target = _seek_target(position, timestamp)
        subscription = await self._subscriptions.get(name)
        await self._deliveries.seek(subscription, target)
        self._waiting.notify(subscription.topic, subscription.name)

    async def redrive(self, name: str, ids: Sequence[str] | None = None) -> int:
        """Move the messages this subscription dead-lettered back to it alone.

        Attempts count afresh and the copies leave the dead-letter topic. A message whose
        original has left the source topic (retention) stays in the dead-letter topic.

        Args:
            name: the subscription.
            ids: only these dead letters (their ids in the dead-letter topic); ids that are
                not this subscription's dead letters are left alone. None: all of them.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        subscription = await self._subscriptions.get(name)
        moved = 0
        now = self._clock.now()
        async for dead_letter_topic, page in self._dead_letters_of(subscription, ids):
            originals = {MessageId(m.attributes["x-original-id"]): m.id for m in page}
            entries = [Redelivery(original, now) for original in originals]
            queued = await self._deliveries.redeliver(subscription, entries)
            await self._messages.remove(dead_letter_topic, [originals[q] for q in queued])
            moved += len(queued)
        if moved:
            self._waiting.notify(subscription.topic, subscription.name)
        return moved

    async def purge_dead_letters(self, name: str, ids: Sequence[str] | None = None) -> int:
        """Delete the messages this subscription dead-lettered from the dead-letter topic.

        Args:
            name: the subscription.
            ids: only these dead letters, as in :meth:`redrive`; None: all of them.

        Returns:
            How many were deleted.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        subscription = await self._subscriptions.get(name)
        purged = 0
        async for dead_letter_topic, page in self._dead_letters_of(subscription, ids):
            purged += await self._messages.remove(dead_letter_topic, [m.id for m in page])
        return purged

    async def _dead_letters_of(
        self, subscription: Subscription, ids: Sequence[str] | None
    ) -> AsyncIterator[tuple[str, builtins.list[Message]]]:
        """The subscription's dead letters with their topic, page by page: the given ones in
        one page, or every one of them read in pages of ``REDRIVE_PAGE`` (none without a
        dead-letter topic)."""
        dead_letter_topic = subscription.dead_letter_topic
        if dead_letter_topic is None:
            return
        if ids is not None:
            found = await self._messages.fetch(dead_letter_topic, [MessageId(i) for i in ids])
            yield (
                dead_letter_topic,
                [m for m in found.values() if dead_lettered_by(m, subscription)],
            )
            return
        after: MessageId | None = None
        while page := await self._messages.browse(dead_letter_topic, after, REDRIVE_PAGE):
            after = page[-1].id
            yield dead_letter_topic, [m for m in page if dead_lettered_by(m, subscription)]

    async def _check_dead_letter_topic(self, subscription: Subscription) -> None:
        dead_letter_topic = subscription.dead_letter_topic
        if dead_letter_topic is None:
            return
        if dead_letter_topic == subscription.topic:
            raise InvalidSetting(
                "dead_letter_topic must differ from the topic", field="dead_letter_topic"
            )
        try:
            await self._topics.get(dead_letter_topic)
        except TopicNotFound:
            raise InvalidSetting(
                f"dead_letter_topic {dead_letter_topic!r} does not exist; create it first",
                field="dead_letter_topic",
            ) from None


def dead_lettered_by(message: Message, subscription: Subscription) -> bool:
    """True when ``message`` (in a dead-letter topic) is one ``subscription`` dead-lettered."""
    attributes = message.attributes
    return (
        attributes.get("x-original-subscription") == subscription.name
        and attributes.get("x-original-topic") == subscription.topic
        and "x-original-id" in attributes
    )


def _seek_target(position: str | None, timestamp: float | None) -> SeekTarget:
    if (position is None) == (timestamp is None):
        raise InvalidArgument("seek takes either a position or a timestamp", field="position")
    if position is None:
        return SeekTarget(timestamp=timestamp)
    try:
        return SeekTarget(position=StartPosition(position))
    except ValueError:
        raise InvalidArgument("position must be earliest or latest", field="position") from None
