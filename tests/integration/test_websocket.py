"""WebSocket: subscribe, push with flow control, settle, publish, protocol errors, shutdown."""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from typing import Any

import pytest
from aiohttp import ClientWebSocketResponse, WSCloseCode, WSMsgType

from pubsubgo.adapters.wire.keys import BROKER, SOCKETS
from pubsubgo.runtime.heartbeats import Heartbeats
from tests.integration.conftest import (
    DEADLINE_SECONDS,
    Client,
    create_subscription,
    create_topic,
    eventually,
    publish,
)
from tests.integration.rawsocket import upgrade_request

Frame = dict[str, Any]
#: How long a socket is watched for a frame that should not come (whatever would send it
#: has already run: this only lets it arrive).
QUIET_SECONDS = 0.2


async def receive(ws: ClientWebSocketResponse) -> Frame:
    """The next frame, as JSON; fails if none comes within the deadline."""
    message = await ws.receive(timeout=DEADLINE_SECONDS)
    assert message.type is WSMsgType.TEXT, message
    frame: Frame = message.json()
    return frame


async def subscribe(ws: ClientWebSocketResponse, subscription: str, **fields: Any) -> Frame:
    await ws.send_json({"type": "subscribe", "subscription": subscription, **fields})
    frame = await receive(ws)
    assert frame["type"] == "subscribed", frame
    return frame


async def _next_or_none(ws: ClientWebSocketResponse) -> Frame | None:
    """The next frame, or None if none comes within QUIET_SECONDS."""
    try:
        message = await ws.receive(timeout=QUIET_SECONDS)
    except TimeoutError:
        return None
    frame: Frame = message.json()
    return frame


async def described(client: Client, subscription: str) -> Frame:
    body: Frame = await (await client.get(f"/v1/subscriptions/{subscription}")).json()
    return body


class TestSubscribe:
    async def test_a_subscribed_socket_receives_published_messages_and_acks_them(
        self, client: Client
    ) -> None:
        # Given
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        async with client.ws_connect("/v1/ws") as ws:
            subscribed = await subscribe(ws, sub)
            # When
            await publish(client, topic, "over the socket", attributes={"a": "1"})
            message = await receive(ws)
            await ws.send_json({"type": "ack", "ack_ids": [message["ack_id"]], "request_id": 7})
            reply = await receive(ws)
        # Then
        assert subscribed["member_id"]
        assert subscribed["assignment"] == [0]
        assert message["type"] == "message"
        assert (message["data"], message["attributes"]) == ("over the socket", {"a": "1"})
        assert reply == {"type": "acked", "acked": 1, "unknown": [], "request_id": 7}
        assert (await described(client, sub))["backlog"] == 0

    async def test_the_socket_is_a_group_member_while_subscribed(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        async with client.ws_connect("/v1/ws") as ws:
            subscribed = await subscribe(ws, sub)
            members = (await described(client, sub))["members"]
            assert [m["member_id"] for m in members] == [subscribed["member_id"]]
            await ws.send_json({"type": "unsubscribe", "subscription": sub})
            assert (await receive(ws))["type"] == "unsubscribed"
            assert (await described(client, sub))["members"] == []

    async def test_subscribing_to_a_missing_subscription_is_an_error_frame(
        self, client: Client
    ) -> None:
        async with client.ws_connect("/v1/ws") as ws:
            await ws.send_json({"type": "subscribe", "subscription": "nope", "request_id": "r"})
            error = await receive(ws)
        assert error["type"] == "error"
        assert error["code"] == "subscription_not_found"
        assert error["request_id"] == "r"


class TestFlowControl:
    async def test_no_more_than_max_in_flight_messages_are_outstanding(
        self, client: Client
    ) -> None:
        # Given five messages and a socket allowing two unacked
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, *[f"m{i}" for i in range(5)])
        async with client.ws_connect("/v1/ws") as ws:
            await subscribe(ws, sub, max_in_flight=2)
            # When
            first = [await receive(ws), await receive(ws)]

            async def two_in_flight() -> bool:
                return bool((await described(client, sub))["in_flight"] == 2)

            await eventually(two_in_flight, "two deliveries in flight")
            # Then nothing more is claimed until one is acked
            assert (await described(client, sub))["in_flight"] == 2
            await ws.send_json({"type": "ack", "ack_ids": [first[0]["ack_id"]]})
            third = await receive(ws)
            assert [m["data"] for m in [*first, third]] == ["m0", "m1", "m2"]
            await eventually(two_in_flight, "two deliveries in flight again")


class TestSettle:
    async def test_a_nacked_message_comes_back_with_the_next_attempt(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "retry me")
        async with client.ws_connect("/v1/ws") as ws:
            await subscribe(ws, sub)
            first = await receive(ws)
            await ws.send_json({"type": "nack", "ack_ids": [first["ack_id"]], "delay_seconds": 0})
            second = await receive(ws)
        assert second["id"] == first["id"]
        assert (first["delivery_attempt"], second["delivery_attempt"]) == (1, 2)

    async def test_extend_is_confirmed_when_asked(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "slow")
        async with client.ws_connect("/v1/ws") as ws:
            await subscribe(ws, sub)
            message = await receive(ws)
            frame = {"type": "extend", "ack_ids": [message["ack_id"]], "request_id": 1}
            await ws.send_json(frame)
            reply = await receive(ws)
        assert reply == {"type": "extended", "extended": 1, "unknown": [], "request_id": 1}

    async def test_closing_a_socket_releases_its_messages_to_another_consumer_at_once(
        self, client: Client
    ) -> None:
        # Given a first socket holding three messages, and a second one waiting
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "a", "b", "c")
        async with client.ws_connect("/v1/ws") as other:
            async with client.ws_connect("/v1/ws") as first:
                await subscribe(first, sub)
                held = [await receive(first) for _ in range(3)]
                await subscribe(other, sub)
            # When the first socket closes (the clock never moves: no deadline passes)
            released = [await receive(other) for _ in range(3)]
        # Then the second receives them at once, as new attempts
        assert sorted(m["id"] for m in released) == sorted(m["id"] for m in held)
        assert {m["delivery_attempt"] for m in released} == {2}


class TestPublish:
    async def test_a_publish_frame_is_answered_with_the_ids(self, client: Client) -> None:
        topic = await create_topic(client)
        async with client.ws_connect("/v1/ws") as ws:
            frame = {"type": "publish", "topic": topic, "messages": [{"data": "x"}]}
            await ws.send_json(frame | {"request_id": "p1"})
            published = await receive(ws)
            await ws.send_json(frame | {"topic": "missing", "request_id": "p2"})
            refused = await receive(ws)
        assert (published["type"], published["request_id"]) == ("published", "p1")
        assert len(published["ids"]) == 1
        assert refused["code"] == "topic_not_found"
        assert refused["request_id"] == "p2"


class TestProtocolErrors:
    async def test_bad_frames_are_answered_with_errors_and_the_socket_stays_open(
        self, client: Client
    ) -> None:
        topic = await create_topic(client)
        async with client.ws_connect("/v1/ws") as ws:
            await ws.send_str("{not json")
            not_json = await receive(ws)
            await ws.send_json({"type": "dance", "request_id": 3})
            unknown = await receive(ws)
            await ws.send_json({"type": "subscribe", "request_id": 4})
            missing = await receive(ws)
            await ws.send_json({"type": "ack", "ack_ids": ["x"], "extra": True})
            extra = await receive(ws)
            await ws.send_bytes(b"\x00")
            binary = await receive(ws)
            # The socket still works.
            await ws.send_json({"type": "publish", "topic": topic, "messages": [{"data": "ok"}]})
            published = await receive(ws)
        assert not_json["code"] == "invalid_json"
        assert (unknown["code"], unknown["request_id"]) == ("unknown_type", 3)
        assert (missing["code"], missing["request_id"]) == ("invalid_frame", 4)
        assert "subscription" in missing["message"]
        assert extra["code"] == "invalid_frame"
        assert binary["code"] == "binary_frame"
        assert published["type"] == "published"

    async def test_unsubscribing_without_a_subscription_is_an_error(self, client: Client) -> None:
        async with client.ws_connect("/v1/ws") as ws:
            await ws.send_json({"type": "unsubscribe", "subscription": "none"})
            error = await receive(ws)
        assert error["code"] == "not_subscribed"


class TestGroupsAndShutdown:
    async def test_a_socket_hears_of_a_rebalance(self, client: Client) -> None:
        # Given an ordered subscription on two partitions, consumed by one socket
        topic = await create_topic(client, partitions=2)
        sub = await create_subscription(client, topic, ordered=True)
        async with client.ws_connect("/v1/ws") as first, client.ws_connect("/v1/ws") as second:
            alone = await subscribe(first, sub)
            # When a second socket joins
            joined = await subscribe(second, sub)
            notice = await receive(first)
        # Then the first learns its new generation and share
        assert alone["assignment"] == [0, 1]
        assert notice["type"] == "rebalanced"
        assert notice["generation"] == joined["generation"]
        assert len(notice["assignment"]) == 1
        assert sorted(notice["assignment"] + joined["assignment"]) == [0, 1]

    async def test_members_whose_share_did_not_change_hear_nothing(self, client: Client) -> None:
        # Given sockets on an unordered subscription (members share every partition) and on
        # an ordered one with fewer partitions than sockets
        topic = await create_topic(client, partitions=2)
        shared = await create_subscription(client, topic)
        ordered = await create_subscription(client, topic, ordered=True)
        sockets = [await client.ws_connect("/v1/ws") for _ in range(4)]
        for ws in sockets:
            await subscribe(ws, shared)
        for ws in sockets[:2]:
            await subscribe(ws, ordered)
        heartbeats = Heartbeats.of(client.app[BROKER].groups)
        await heartbeats.beat()
        handed_over = await _next_or_none(sockets[0])  # the first owner gave a partition up
        # When another socket joins both, and everyone's heartbeat has been answered
        late = await client.ws_connect("/v1/ws")
        await subscribe(late, shared)
        await subscribe(late, ordered)
        await heartbeats.beat()
        # Then nobody else was told of a rebalance: no one else's partitions moved
        heard = [await _next_or_none(ws) for ws in sockets]
        for ws in [*sockets, late]:
            await ws.close()
        assert handed_over is not None
        assert (handed_over["type"], handed_over["assignment"]) == ("rebalanced", [0])
        assert heard == [None] * 4

    async def test_shutdown_closes_sockets_with_going_away(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        ws = await client.ws_connect("/v1/ws")
        await subscribe(ws, sub)
        # When the server shuts down
        await client.server.close()
        # Then
        message = await ws.receive(timeout=DEADLINE_SECONDS)
        assert message.type is WSMsgType.CLOSE
        assert message.data == WSCloseCode.GOING_AWAY
        await ws.close()


class TestSocketCost:
    async def test_compression_is_not_negotiated_unless_configured(self, client: Client) -> None:
        # A browser offers permessage-deflate; the broker declines it by default
        async with client.ws_connect("/v1/ws", compress=15) as ws:
            assert ws.compress == 0


class TestClientsThatLeave:
    async def test_a_client_gone_during_the_upgrade_logs_no_error(
        self, client: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.DEBUG)
        host, port = client.server.host, client.server.port
        assert port is not None
        # When clients send an upgrade and reset the connection at once
        for _ in range(20):
            _, writer = await asyncio.open_connection(host, port)
            writer.write(upgrade_request(host, port))
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.close()
        # Then once the broker has forgotten them, nothing was logged as an error
        sockets = client.app[SOCKETS]
        await eventually(lambda: _none_left(sockets), "the sockets to be forgotten")
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == []


async def _none_left(sockets: Any) -> bool:
    return not len(sockets)
