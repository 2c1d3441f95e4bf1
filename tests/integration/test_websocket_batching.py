"""WebSocket hot paths: plain publish frames, batch frames of pushed messages, and ack
frames settled together while a settle is in flight."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from aiohttp import ClientWebSocketResponse

from pubsubgo.ports.storage import Storage
from tests.integration.conftest import (
    Client,
    create_subscription,
    create_topic,
    eventually,
    publish,
    pull,
)
from tests.integration.test_websocket import Frame, described, receive, subscribe

#: The fields of a stored message that do not depend on when or as what it was stored.
CONTENT = ("data", "encoding", "key", "attributes", "priority", "delivery_mode", "partition")


def publish_frame(topic: str, texts: list[str], request_id: object, **fields: Any) -> str:
    """A publish frame; ``fields`` are added to every message (none: a plain frame)."""
    messages = [{"data": text, **fields} for text in texts]
    frame = {"type": "publish", "topic": topic, "messages": messages, "request_id": request_id}
    return orjson.dumps(frame).decode()


async def ask(ws: ClientWebSocketResponse, text: str) -> Frame:
    """Send ``text`` and return the frame answering it."""
    await ws.send_str(text)
    return await receive(ws)


async def receive_messages(ws: ClientWebSocketResponse, count: int) -> list[Frame]:
    """The next ``count`` pushed messages, from ``messages`` frames (and only those)."""
    received: list[Frame] = []
    while len(received) < count:
        frame = await receive(ws)
        assert frame["type"] == "messages", frame
        assert frame["messages"], frame
        received += frame["messages"]
    assert len(received) == count
    return received


class TestPublishFrames:
    async def test_plain_and_validated_publish_frames_store_the_same_messages(
        self, client: Client
    ) -> None:
        # Given the same messages as a plain frame and as one that must be validated
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        texts = ["héllo 😀", " ", '\u0000\n"quoted"', "x" * 5000]
        async with client.ws_connect("/v1/ws") as ws:
            # When
            plain = await ask(ws, publish_frame(topic, texts, "plain"))
            validated = await ask(ws, publish_frame(topic, texts, "validated", encoding="utf-8"))
        stored = await pull(client, sub, max_messages=100)
        # Then
        assert (plain["type"], plain["request_id"], len(plain["ids"])) == ("published", "plain", 4)
        assert validated["type"] == "published"
        assert [m["id"] for m in stored] == plain["ids"] + validated["ids"]
        contents = [tuple(m.get(f) for f in CONTENT) for m in stored]
        assert contents[:4] == contents[4:]
        assert [m["data"] for m in stored[:4]] == texts

    @pytest.mark.parametrize("request_id", [0, -(2**63), 2**63 - 1, "", "r" * 256, None], ids=repr)
    async def test_every_valid_request_id_is_echoed(
        self, client: Client, request_id: object
    ) -> None:
        topic = await create_topic(client)
        async with client.ws_connect("/v1/ws") as ws:
            answer = await ask(ws, publish_frame(topic, ["x"], request_id))
        assert answer["type"] == "published"
        assert answer.get("request_id") == request_id

    async def test_refusals_of_the_broker_are_the_same_on_both_paths(self, client: Client) -> None:
        # Given a missing topic and a batch over the limit of 1000 messages
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        frames = [("nowhere", ["x"]), (topic, ["x"] * 1001)]
        async with client.ws_connect("/v1/ws") as ws:
            for target, texts in frames:
                # When
                plain = await ask(ws, publish_frame(target, texts, 9))
                validated = await ask(ws, publish_frame(target, texts, 9, encoding="utf-8"))
                # Then
                assert plain["type"] == "error"
                assert plain == validated
        assert await pull(client, sub) == []

    @pytest.mark.parametrize(
        ("text", "code", "field", "request_id"),
        [
            (
                '{"type":"publish","topic":"t1","messages":[{"data":"x"}],"request_id":true}',
                "invalid_frame",
                "request_id",
                None,
            ),
            (
                '{"type":"publish","topic":"t1","messages":[{"data":"x"}],"request_id":1.5}',
                "invalid_frame",
                "request_id",
                None,
            ),
            (
                '{"type":"publish","topic":"t1","messages":[{"data":"x"}],'
                '"request_id":9223372036854775808}',
                "invalid_frame",
                "request_id",
                None,
            ),
            (
                '{"type":"publish","topic":"t1","messages":[{"data":"x"}],"request_id":"%s"}'
                % ("r" * 257),
                "invalid_frame",
                "request_id",
                None,
            ),
            (
                '{"type":"publish","topic":"bad name","messages":[{"data":"x"}],"request_id":1}',
                "invalid_frame",
                "topic",
                1,
            ),
            (
                '{"type":"publish","messages":[{"data":"x"}],"request_id":1}',
                "invalid_frame",
                "topic",
                1,
            ),
            (
                '{"type":"publish","topic":"t1","messages":[{"data":"x","colour":"red"}],'
                '"request_id":1}',
                "invalid_frame",
                "messages.0.colour",
                1,
            ),
            (
                '{"type":"publish","topic":"t1","messages":[{"data":5}],"request_id":1}',
                "invalid_frame",
                "messages.0.data",
                1,
            ),
            (
                '{"type":"publish","topic":"t1","messages":["x"],"request_id":1}',
                "invalid_frame",
                "messages.0",
                1,
            ),
            (
                '{"type":"publish","topic":"t1","messages":[],"request_id":1}',
                "invalid_frame",
                "messages",
                1,
            ),
            (
                '{"type":"publish","topic":"t1","messages":{"data":"x"},"request_id":1}',
                "invalid_frame",
                "messages",
                1,
            ),
            (
                '{"type":"publish","topic":"t1","messages":[{"data":"x"}],"priority":"high",'
                '"request_id":1}',
                "invalid_frame",
                "priority",
                1,
            ),
            (
                '{"type":"publish","topic":"t1","messages":[{"data":"\\ud800"}],"request_id":1}',
                "invalid_json",
                None,
                None,
            ),
        ],
        ids=[
            "boolean id", "float id", "id over 64 bits", "id over 256 characters",
            "bad topic", "no topic", "extra message field", "data not text",
            "message not an object", "no messages", "messages not a list", "extra field",
            "lone surrogate",
        ],
    )  # fmt: skip
    async def test_malformed_publish_frames_get_error_frames_naming_the_field(
        self, client: Client, text: str, code: str, field: str | None, request_id: int | None
    ) -> None:
        async with client.ws_connect("/v1/ws") as ws:
            answer = await ask(ws, text)
        assert (answer["type"], answer["code"]) == ("error", code)
        assert answer.get("request_id") == request_id
        if field is not None:
            assert answer["message"].startswith(f"{field}: ")


class TestBatchFrames:
    async def test_a_batch_subscriber_gets_exactly_the_published_messages_in_messages_frames(
        self, client: Client
    ) -> None:
        # Given 25 messages waiting, and a socket that asked for batch frames
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        texts = [f"m{i}" for i in range(25)]
        ids = await publish(client, topic, *texts)
        async with client.ws_connect("/v1/ws") as ws:
            await subscribe(ws, sub, batch=True)
            # When
            received = await receive_messages(ws, 25)
            # Then each message is a message frame's fields but its type
            assert [m["id"] for m in received] == ids
            assert [m["data"] for m in received] == texts
            assert all(m["subscription"] == sub and "type" not in m for m in received)
            await ws.send_json({"type": "ack", "ack_ids": [m["ack_id"] for m in received]})
            await publish(client, topic, "later")
            [later] = await receive_messages(ws, 1)
        assert later["data"] == "later"

    async def test_batch_frames_hold_no_more_than_max_in_flight(self, client: Client) -> None:
        # Given seven messages and a batch socket allowing three unacked
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, *[f"m{i}" for i in range(7)])
        async with client.ws_connect("/v1/ws") as ws:
            await subscribe(ws, sub, max_in_flight=3, batch=True)
            # When
            first = await receive_messages(ws, 3)

            async def in_flight(count: int) -> bool:
                return bool((await described(client, sub))["in_flight"] == count)

            await eventually(lambda: in_flight(3), "three deliveries in flight")
            # Then nothing more is claimed until some are acked
            assert (await described(client, sub))["in_flight"] == 3
            acked = [m["ack_id"] for m in first[:2]]
            await ws.send_json({"type": "ack", "ack_ids": acked, "request_id": 1})
            frames = [await receive(ws), await receive(ws)]
            reply = next(f for f in frames if f["type"] == "acked")
            [batch] = [f for f in frames if f["type"] == "messages"]
            assert reply == {"type": "acked", "acked": 2, "unknown": [], "request_id": 1}
            assert [m["data"] for m in [*first, *batch["messages"]]] == [f"m{i}" for i in range(5)]
            await eventually(lambda: in_flight(3), "three deliveries in flight again")


class TestMergedAcks:
    async def test_ack_frames_sent_back_to_back_are_all_applied_and_each_answered(
        self, client: Client
    ) -> None:
        # Given 300 deliveries on one socket
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, *[f"m{i}" for i in range(300)])
        async with client.ws_connect("/v1/ws") as ws:
            await subscribe(ws, sub, max_in_flight=300, batch=True)
            ack_ids = [m["ack_id"] for m in await receive_messages(ws, 300)]
            # When each is acked in a frame of its own, without waiting, with a repeat
            # and an id the broker never gave out among them
            frames = [{"ack_ids": [a]} for a in ack_ids[:150]]
            frames += [{"ack_ids": [ack_ids[0], ack_ids[150]]}, {"ack_ids": ["0-0-nope"]}]
            frames += [{"ack_ids": [a]} for a in ack_ids[151:]]
            for number, frame in enumerate(frames):
                await ws.send_json({"type": "ack", **frame, "request_id": number})
            replies = [await receive(ws) for _ in frames]
        # Then every frame is answered, in order, as if settled alone
        assert [r["request_id"] for r in replies] == list(range(len(frames)))
        assert replies[150] == {
            "type": "acked", "acked": 1, "unknown": [ack_ids[0]], "request_id": 150
        }  # fmt: skip
        assert replies[151] == {
            "type": "acked", "acked": 0, "unknown": ["0-0-nope"], "request_id": 151
        }  # fmt: skip
        others = replies[:150] + replies[152:]
        assert {(r["acked"], tuple(r["unknown"])) for r in others} == {(1, ())}
        state = await described(client, sub)
        assert (state["backlog"], state["in_flight"]) == (0, 0)

    async def test_acks_and_other_frames_are_answered_in_the_order_they_were_sent(
        self, client: Client
    ) -> None:
        # Given two deliveries
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "a", "b")
        elsewhere = await create_topic(client)
        async with client.ws_connect("/v1/ws") as ws:
            await subscribe(ws, sub, batch=True)
            first, second = await receive_messages(ws, 2)
            # When acks, a publish and a failing ack are sent back to back
            await ws.send_json({"type": "ack", "ack_ids": [first["ack_id"]], "request_id": 1})
            await ws.send_str(publish_frame(elsewhere, ["c"], 2))
            failing = {"type": "ack", "ack_ids": ["x"], "subscription": "gone", "request_id": 3}
            await ws.send_json(failing)
            await ws.send_json({"type": "ack", "ack_ids": [second["ack_id"]], "request_id": 4})
            await ws.send_json({"type": "unsubscribe", "subscription": sub, "request_id": 5})
            replies = [await receive(ws) for _ in range(5)]
        # Then
        assert [(r["type"], r["request_id"]) for r in replies] == [
            ("acked", 1), ("published", 2), ("error", 3), ("acked", 4), ("unsubscribed", 5)
        ]  # fmt: skip
        assert replies[2]["code"] == "subscription_not_found"
        assert (replies[0]["acked"], replies[3]["acked"]) == (1, 1)

    async def test_acks_sent_right_before_closing_are_not_lost(self, client: Client) -> None:
        # Given 100 deliveries on a socket
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, *[f"m{i}" for i in range(100)])
        async with client.ws_connect("/v1/ws") as ws:
            await subscribe(ws, sub, max_in_flight=100)
            delivered = [await receive(ws) for _ in range(100)]
            # When each is acked without waiting for an answer, and the socket closes
            for message in delivered:
                await ws.send_json({"type": "ack", "ack_ids": [message["ack_id"]]})

        # Then none is given back for redelivery when the socket leaves the group
        async def settled() -> bool:
            state = await described(client, sub)
            return bool(state["members"] == [] and state["in_flight"] == 0)

        await eventually(settled, "the socket to leave")
        assert (await described(client, sub))["backlog"] == 0
        assert await pull(client, sub) == []


class TestMergedPublishes:
    @pytest.fixture(params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
    def storage(self, request: pytest.FixtureRequest) -> Storage:
        """Both backends: on Redis, frames queue up behind each storage call and are merged."""
        found: Storage = request.getfixturevalue(f"{request.param}_storage_backend")
        return found

    async def test_publish_frames_sent_back_to_back_are_each_answered_and_stored_in_order(
        self, client: Client
    ) -> None:
        # Given a topic of one partition, so that storage order is publish order
        topic = await create_topic(client, partitions=1)
        sub = await create_subscription(client, topic)
        texts = [f"m{i}" for i in range(101)]
        bad = {"data": "x", "delivery_mode": "exactly_once"}  # no dedup_id: refused
        async with client.ws_connect("/v1/ws") as ws:
            # When 101 single-message frames go out without waiting, one refused among them
            for number, text in enumerate(texts):
                if number == 50:
                    frame = {"type": "publish", "topic": topic, "messages": [bad]}
                    await ws.send_json(frame | {"request_id": number})
                else:
                    await ws.send_str(publish_frame(topic, [text], number))
            replies = [await receive(ws) for _ in texts]
        # Then each is answered in order, the refused one with its own error
        assert [r["request_id"] for r in replies] == list(range(101))
        refused = replies.pop(50)
        assert (refused["type"], refused["code"]) == ("error", "invalid_message")
        assert "messages[0]" in refused["message"]
        assert {(r["type"], len(r["ids"])) for r in replies} == {("published", 1)}
        stored = await pull(client, sub, max_messages=200)
        assert [m["id"] for m in stored] == [r["ids"][0] for r in replies]
        assert [m["data"] for m in stored] == texts[:50] + texts[51:]

    async def test_publishes_sent_right_before_closing_are_stored(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        async with client.ws_connect("/v1/ws") as ws:
            for number in range(200):
                await ws.send_str(publish_frame(topic, [f"m{number}"], None))

        async def all_stored() -> bool:
            return bool((await described(client, sub))["backlog"] == 200)

        await eventually(all_stored, "200 publishes to be stored")
