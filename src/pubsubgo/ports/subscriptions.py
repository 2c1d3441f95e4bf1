"""The SubscriptionRegistry port: where subscription definitions live."""

from __future__ import annotations

from typing import Protocol

from pubsubgo.core.names import EVERY_NAME, NamePage
from pubsubgo.core.subscriptions import Subscription


class SubscriptionRegistry(Protocol):
    """Stores subscriptions, each with its read position on the topic."""

    async def create(self, subscription: Subscription) -> None:
        """Store a new subscription, positioned at its topic's start or end per ``start``.

        Raises:
            SubscriptionAlreadyExists: the name is taken.
            TopicNotFound: the topic does not exist.
        """
        ...

    async def get(self, name: str) -> Subscription:
        """Return the subscription named ``name``.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        ...

    async def list(
        self, topic: str | None = None, page: NamePage = EVERY_NAME
    ) -> list[Subscription]:
        """The subscriptions of ``page`` (every one by default), of ``topic`` when given,
        sorted by name: the page's ``limit`` counts only those of ``topic``."""
        ...

    async def delete(self, name: str) -> None:
        """Remove the subscription with its queue, in-flight deliveries and group.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        ...
