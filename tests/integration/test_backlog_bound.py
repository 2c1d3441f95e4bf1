"""A subscription's ``max_backlog`` over HTTP and the WebSocket on both backends: a publish
over it is a 429 ``subscription_backlog_full`` with ``Retry-After`` (reject), or the
subscription skips its oldest (drop_oldest)."""

from __future__ import annotations

import base64

import orjson
import pytest

from pubsubgo.ports.storage import Storage
from tests.integration.conftest import Client, create_subscription, create_topic, publish, pull


@pytest.fixture
def storage(on_every_backend: Storage) -> Storage:
    return on_every_backend


async def test_a_publish_over_the_bound_is_a_429_with_retry_after(client: Client) -> None:
    # Given a subscription bounded at 2, holding 2
    topic = await create_topic(client)
    sub = await create_subscription(client, topic, max_backlog=2)
    await publish(client, topic, "a", "b")
    # When one more is published
    response = await client.post(f"/v1/topics/{topic}/messages", json={"messages": [{"data": "c"}]})
    # Then
    assert response.status == 429
    assert int(response.headers["Retry-After"]) >= 1
    error = (await response.json())["error"]
    assert (error["code"], error["subscription"], error["max_backlog"]) == (
        "subscription_backlog_full",
        sub,
        2,
    )
    described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
    assert (described["max_backlog"], described["overflow"], described["backlog"]) == (
        2,
        "reject",
        2,
    )


async def test_acking_frees_room(client: Client) -> None:
    topic = await create_topic(client)
    sub = await create_subscription(client, topic, max_backlog=1)
    await publish(client, topic, "a")
    [message] = await pull(client, sub)

    await client.post(f"/v1/subscriptions/{sub}/ack", json={"ack_ids": [message["ack_id"]]})

    assert len(await publish(client, topic, "b")) == 1


async def test_the_legacy_batch_and_the_websocket_are_refused_alike(client: Client) -> None:
    topic = await create_topic(client)
    await create_subscription(client, topic, max_backlog=1)
    await publish(client, topic, "a")

    entries = {"messages": [{"payload": base64.b64encode(b"b").decode()}]}
    legacy = await client.post(f"/v1/publish/{topic}/batch", json=entries)
    frame = {"type": "publish", "topic": topic, "messages": [{"data": "c"}], "request_id": 7}
    async with client.ws_connect("/v1/ws") as ws:
        await ws.send_str(orjson.dumps(frame).decode())
        answer = await ws.receive_json(timeout=5)

    assert legacy.status == 429
    assert (answer["type"], answer["code"], answer["request_id"]) == (
        "error",
        "subscription_backlog_full",
        7,
    )


async def test_drop_oldest_keeps_the_newest(client: Client) -> None:
    topic = await create_topic(client)
    sub = await create_subscription(client, topic, max_backlog=2, overflow="drop_oldest")

    await publish(client, topic, "a", "b", "c")

    assert [m["data"] for m in await pull(client, sub)] == ["b", "c"]
