"""The TopicRegistry port: where topic definitions live."""

from __future__ import annotations

from typing import Protocol

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

    async def list(self) -> list[Topic]:
        """All topics, sorted by name."""
        ...

    async def delete(self, name: str) -> None:
        """Remove the topic with its messages and dedup records.

        The caller removes the topic's subscriptions first.

        Raises:
            TopicNotFound: no such topic.
        """
        ...
