"""Small helpers that keep contract tests about behaviour, not setup."""

from __future__ import annotations

from typing import Any

from pubsubgo.core.messages import Delivery, MessageId, PublishRequest
from pubsubgo.core.subscriptions import StartPosition, Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.services.broker import Broker
from tests.conftest import unique


async def new_topic(broker: Broker, **settings: Any) -> str:
    """Create a topic with a fresh name and return the name."""
    name = unique("topic")
    await broker.topics.create(Topic(name, **settings))
    return name


async def new_subscription(broker: Broker, topic: str, **settings: Any) -> str:
    """Create a subscription (from ``earliest`` unless told otherwise) and return its name."""
    name = unique("sub")
    settings.setdefault("start", StartPosition.EARLIEST)
    await broker.subscriptions.create(Subscription(name, topic, **settings))
    return name


async def publish(broker: Broker, topic: str, *payloads: str, **fields: Any) -> list[MessageId]:
    """Publish one message per payload, all with the same extra fields."""
    requests = [PublishRequest(data=p.encode(), **fields) for p in payloads]
    return await broker.publisher.publish(topic, requests)


async def pull(
    broker: Broker, subscription: str, max_messages: int = 100, **kw: Any
) -> list[Delivery]:
    return await broker.subscriber.pull(subscription, max_messages, **kw)


def payloads(deliveries: list[Delivery]) -> list[str]:
    return [d.message.data.decode() for d in deliveries]
