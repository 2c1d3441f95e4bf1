"""Refusals the document once left out, each given by the real server and declared for its
route: a dead-letter topic that is the topic itself, ``deliver_at`` over 7 days ahead, an
upgrade route called without an upgrade, a fetch after the TTL."""

from __future__ import annotations

import time

from pubsubgo.runtime.clock import ManualClock
from tests.integration.conftest import Client, create_topic, publish
from tests.integration.test_openapi import Document, conforms, document

__all__ = ["document"]  # the fixture, used by name


async def test_a_dead_letter_topic_equal_to_the_topic_is_a_declared_400(
    client: Client, document: Document
) -> None:
    topic = await create_topic(client)
    body = {"name": "dlq-self", "topic": topic, "dead_letter_topic": topic}
    answer = await client.post("/v1/subscriptions", json=body)
    assert answer.status == 400
    await conforms(document, "POST", "/v1/subscriptions", answer)


async def test_deliver_at_over_seven_days_ahead_is_a_declared_400(
    client: Client, document: Document
) -> None:
    topic = await create_topic(client)
    late = {"data": "x", "deliver_at": time.time() + 8 * 86400}
    answer = await client.post(f"/v1/topics/{topic}/messages", json={"messages": [late]})
    assert answer.status == 400
    await conforms(document, "POST", "/v1/topics/{topic}/messages", answer)


async def test_the_websocket_route_without_an_upgrade_is_a_declared_400(
    client: Client, document: Document
) -> None:
    answer = await client.get("/v1/ws")
    assert answer.status == 400
    await conforms(document, "GET", "/v1/ws", answer)


async def test_fetching_an_expired_message_is_a_declared_410(
    client: Client, document: Document, clock: ManualClock
) -> None:
    topic = await create_topic(client)
    [id_] = await publish(client, topic, "brief", ttl_seconds=1)
    clock.advance(2)
    answer = await client.get(f"/v1/topics/{topic}/messages/{id_}")
    assert answer.status == 410
    await conforms(document, "GET", "/v1/topics/{topic}/messages/{id}", answer)
