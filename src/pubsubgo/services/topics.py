"""TopicService: creating, describing and deleting topics, and reading stored messages."""

from __future__ import annotations

from dataclasses import dataclass, replace

from pubsubgo.core.errors import InvalidArgument, MessageExpired, MessageNotFound, TopicInUse
from pubsubgo.core.messages import Message, MessageId, partition_of
from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.topics import Topic, TopicChanges, TopicStats
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.message_log import MessageLog
from pubsubgo.ports.subscriptions import SubscriptionRegistry
from pubsubgo.ports.topics import TopicRegistry
from pubsubgo.services.compression import unpacked

#: DESIGN §3: browsing returns at most this many messages per page.
MAX_BROWSE_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class TopicDescription:
    """A topic with what it holds now."""

    topic: Topic
    stats: TopicStats


@dataclass(frozen=True, slots=True)
class BrowsePage:
    """A page of stored messages, and where the next page starts.

    Attributes:
        messages: the page's live messages, in order (expired ones left out, as they are
            never delivered and cannot be fetched).
        next_after: the id to browse after for the next page; None when this page is the
            last (a page may hold fewer than ``limit`` messages and still have one after it,
            when messages in it had expired).
    """

    messages: list[Message]
    next_after: MessageId | None


class TopicService:
    """Manages topics."""

    def __init__(
        self,
        topics: TopicRegistry,
        subscriptions: SubscriptionRegistry,
        messages: MessageLog,
        clock: Clock,
    ) -> None:
        self._topics = topics
        self._subscriptions = subscriptions
        self._messages = messages
        self._clock = clock

    async def create(self, topic: Topic) -> Topic:
        """Create ``topic``; ``created_at`` is set by the broker.

        Raises:
            TopicAlreadyExists: the name is taken.
        """
        created = replace(topic, created_at=self._clock.now())
        await self._topics.create(created)
        return created

    async def list(self, page: NamePage = EVERY_NAME) -> list[Topic]:
        """The topics of ``page`` (every one by default), sorted by name."""
        return await self._topics.list(page)

    async def describe(self, name: str) -> TopicDescription:
        """The topic with its statistics.

        Raises:
            TopicNotFound: no such topic.
        """
        topic = await self._topics.get(name)
        return TopicDescription(topic, await self._messages.stats(name))

    async def update(self, name: str, changes: TopicChanges) -> Topic:
        """Change a topic's settings; returns the topic as it is now.

        Retention, bounds and dedup windows apply from the next publish or duty round (a
        bound lowered below what the topic holds refuses publishes, or drops the oldest
        messages at the next one, per ``overflow``); compression applies to messages
        published from now on.

        Raises:
            TopicNotFound: no such topic.
            InvalidSetting: ``partitions`` differs from the topic's, a value is out of
                range, or the backend cannot apply it to this topic.
        """
        updated = changes.applied_to(await self._topics.get(name))
        await self._topics.update(updated)
        return updated

    async def delete(self, name: str, force: bool = False) -> None:
        """Delete a topic; with ``force`` its subscriptions go too.

        Raises:
            TopicNotFound: no such topic.
            TopicInUse: it has subscriptions and ``force`` is off.
        """
        await self._topics.get(name)
        subscriptions = await self._subscriptions.list(topic=name)
        if subscriptions and not force:
            raise TopicInUse(name, len(subscriptions))
        for subscription in subscriptions:
            await self._subscriptions.delete(subscription.name)
        await self._topics.delete(name)

    async def message(self, topic: str, id_: MessageId) -> Message:
        """One stored message, payload decompressed.

        Raises:
            TopicNotFound: no such topic.
            MessageNotFound: not stored (never, or removed by retention).
            MessageExpired: its TTL has run out.
        """
        await self._topics.get(topic)
        found = (await self._messages.fetch(topic, [id_])).get(id_)
        if found is None:
            raise MessageNotFound(topic, id_)
        if found.is_expired(self._clock.now()):
            raise MessageExpired(topic, id_)
        return unpacked(found)

    async def browse(self, topic: str, after: MessageId | None, limit: int) -> BrowsePage:
        """Stored messages in order without consuming them, payloads decompressed; expired
        messages are left out, as :meth:`message` answers them with MessageExpired.

        Raises:
            TopicNotFound: no such topic.
            InvalidArgument: ``after`` is not a message id, or ``limit`` is not 1..1000.
        """
        if not 1 <= limit <= MAX_BROWSE_LIMIT:
            raise InvalidArgument(f"limit must be 1..{MAX_BROWSE_LIMIT}", field="limit")
        if after is not None and partition_of(after) is None:
            raise InvalidArgument(f"after {after!r} is not a message id", field="after")
        await self._topics.get(topic)
        stored = await self._messages.browse(topic, after, limit)
        now = self._clock.now()
        live = [unpacked(m) for m in stored if not m.is_expired(now)]
        # A full page from storage may have more behind it; a short one is the end.
        return BrowsePage(live, stored[-1].id if len(stored) == limit else None)

    async def trim_retention(self) -> int:
        """Background duty: remove messages older than their topic's retention."""
        now = self._clock.now()
        removed = 0
        for topic in await self._topics.list():
            removed += await self._messages.trim(topic.name, now - topic.retention_seconds)
        return removed
