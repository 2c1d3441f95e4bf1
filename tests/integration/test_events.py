"""Server-Sent Events over HTTP on both backends: a stream is a group member that receives
the subscription's messages, acks go over REST, and a reconnect with ``Last-Event-ID``
goes on as the same member."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson
import pytest

from pubsubgo.config import Settings
from pubsubgo.ports.storage import Storage
from tests.integration.conftest import (
    DEADLINE_SECONDS,
    Client,
    create_subscription,
    create_topic,
    publish,
)
from tests.integration.security import CONSUMER, auth_settings

Event = tuple[str, str, dict[str, Any]]


@pytest.fixture
def storage(on_every_backend: Storage) -> Storage:
    return on_every_backend


async def next_event(response: aiohttp.ClientResponse) -> Event:
    """The next event of the stream (comments skipped): its type, id and JSON data."""
    async with asyncio.timeout(DEADLINE_SECONDS):
        while True:
            block = (await response.content.readuntil(b"\n\n")).decode()
            lines = dict(line.split(": ", 1) for line in block.strip().split("\n") if line)
            if "event" in lines:
                return lines["event"], lines.get("id", ""), orjson.loads(lines["data"])


async def _open(client: Client, sub: str, **headers: str) -> aiohttp.ClientResponse:
    response = await client.get(f"/v1/subscriptions/{sub}/events", headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "text/event-stream"
    return response


async def test_a_stream_receives_messages_and_acks_go_over_rest(client: Client) -> None:
    # Given a subscription with a stream open on it
    topic = await create_topic(client)
    sub = await create_subscription(client, topic)
    stream = await _open(client, sub)
    kind, event_id, subscribed = await next_event(stream)
    assert (kind, subscribed["subscription"]) == ("subscribed", sub)
    assert event_id.startswith(f"{subscribed['member_id']}:")
    # When messages are published
    await publish(client, topic, "one", "two")
    # Then they arrive as message events, and their acks are confirmed over REST
    messages = [await next_event(stream) for _ in range(2)]
    assert [(k, m["data"]) for k, _, m in messages] == [("message", "one"), ("message", "two")]
    ack_ids = [m["ack_id"] for _, _, m in messages]
    acked = await client.post(f"/v1/subscriptions/{sub}/ack", json={"ack_ids": ack_ids})
    assert (await acked.json())["acked"] == 2
    described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
    assert [m["member_id"] for m in described["members"]] == [subscribed["member_id"]]
    stream.close()


async def test_a_reconnect_with_last_event_id_goes_on_as_the_same_member(
    client: Client,
) -> None:
    # Given a stream that received a message and was cut before acking it
    topic = await create_topic(client)
    sub = await create_subscription(client, topic)
    first = await _open(client, sub)
    _, _, subscribed = await next_event(first)
    await publish(client, topic, "held")
    _, last_id, held = await next_event(first)
    first.close()
    # When the client reconnects with the last event id
    second = await _open(client, sub, **{"Last-Event-ID": last_id})
    _, _, resubscribed = await next_event(second)
    # Then it is the same member, and the message it held is still its to ack
    assert resubscribed["member_id"] == subscribed["member_id"]
    acked = await client.post(f"/v1/subscriptions/{sub}/ack", json={"ack_ids": [held["ack_id"]]})
    assert (await acked.json())["acked"] == 1
    described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
    assert len(described["members"]) == 1
    second.close()


async def test_leaving_over_rest_hands_the_held_messages_over_at_once(client: Client) -> None:
    topic = await create_topic(client)
    sub = await create_subscription(client, topic)
    stream = await _open(client, sub)
    _, _, subscribed = await next_event(stream)
    await publish(client, topic, "held")
    await next_event(stream)
    stream.close()

    left = await client.delete(f"/v1/subscriptions/{sub}/members/{subscribed['member_id']}")

    assert left.status == 204
    pulled = await client.post(f"/v1/subscriptions/{sub}/pull", json={"wait_seconds": 5})
    assert [m["data"] for m in (await pulled.json())["messages"]] == ["held"]


async def test_a_missing_subscription_is_a_404_in_the_error_shape(client: Client) -> None:
    response = await client.get("/v1/subscriptions/nowhere/events")
    assert response.status == 404
    assert (await response.json())["error"]["code"] == "subscription_not_found"


async def test_a_page_of_another_site_may_not_open_a_stream(client: Client) -> None:
    topic = await create_topic(client)
    sub = await create_subscription(client, topic)
    response = await client.get(
        f"/v1/subscriptions/{sub}/events", headers={"Origin": "http://evil.example"}
    )
    assert response.status == 403
    assert (await response.json())["error"]["code"] == "origin_not_allowed"


class TestAuth:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return auth_settings(settings)

    async def test_an_event_source_passes_its_token_in_the_query(self, client: Client) -> None:
        admin = {"Authorization": "Bearer admin-token-0123456789"}
        await client.post("/v1/topics", json={"name": "orders"}, headers=admin)
        body = {"name": "orders-stream", "topic": "orders"}
        await client.post("/v1/subscriptions", json=body, headers=admin)

        refused = await client.get("/v1/subscriptions/orders-stream/events")
        stream = await client.get(
            "/v1/subscriptions/orders-stream/events", params={"access_token": CONSUMER}
        )

        assert refused.status == 401
        assert stream.status == 200
        assert (await next_event(stream))[0] == "subscribed"
        stream.close()


async def test_a_server_that_stops_ends_its_streams_and_they_leave_their_groups(
    client: Client, storage: Storage
) -> None:
    # Given an open stream
    topic = await create_topic(client)
    sub = await create_subscription(client, topic)
    stream = await _open(client, sub)
    await next_event(stream)
    # When the server shuts down
    await client.server.close()
    # Then the stream ended and its member left the group
    async with asyncio.timeout(DEADLINE_SECONDS):
        await stream.content.read()
    assert stream.content.at_eof()
    assert (await storage.groups.load(sub)).members == {}
