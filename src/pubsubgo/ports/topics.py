"""The TopicRegistry port: where topic definitions live."""

from __future__ import annotations

from typing import Protocol

from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.topics import Topic


class TopicRegistry(Protocol):
    """Stores topic definitions. Every method is atomic on its own."""

    async def create(self, topic: Topic) -> None:
        """Store a new topic with empty partitions.

        Raises:
            TopicAlreadyExists: a topic of that name exists.
        """
        ...

    async def get(self, name: str) -> Topic:
        """Return the topic named ``name``.

        Raises:
            TopicNotFound: no such topic.
        """
        ...

    async def list(self, page: NamePage = EVERY_NAME) -> list[Topic]:
        """The topics of ``page`` (every one by default), sorted by name."""
        ...

    async def update(self, topic: Topic) -> None:
        """Replace the settings of the existing topic ``topic.name`` with ``topic``'s.

        The caller keeps ``partitions`` and ``created_at`` as they are. New settings apply
        from the next operation on the topic (in a backend that caches definitions per
        process, within its cache's lifetime on the other processes); stored messages keep
        how they were stored (compression).

        Raises:
            TopicNotFound: no such topic.
            InvalidSetting: the backend cannot apply the settings to this topic as it is
                laid out (say, a bound on a topic whose partitions live on different shards).
        """
        ...

    async def delete(self, name: str) -> None:
        """Remove the topic with its messages and dedup records.

        The caller removes the topic's subscriptions first.

        Raises:
            TopicNotFound: no such topic.
        """
        ...
