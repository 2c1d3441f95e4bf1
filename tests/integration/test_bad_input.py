"""Bad input at the edge: always a 400 or 413 in the JSON error shape (or an ``error``
frame, or a close code for what breaks the WebSocket protocol itself), never a 500, never
a socket dropped without a word."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest
from aiohttp import WSMsgType

from pubsubgo.config import LimitSettings, Settings
from tests.integration.conftest import Client, create_subscription, create_topic
from tests.integration.rawsocket import RawSocket
from tests.integration.test_websocket import receive

JSON = {"Content-Type": "application/json"}
#: A smaller body limit than the default 16 MiB, so that crossing it costs little.
BODY_LIMIT = 1024 * 1024


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"limits": LimitSettings(max_body_bytes=BODY_LIMIT)})


async def refused(response: Any, status: int = 400) -> dict[str, Any]:
    """The error of a refusal with ``status`` in the JSON shape."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    error: dict[str, Any] = (await response.json())["error"]
    assert error["code"]
    assert error["message"]
    return error


class TestBodies:
    @pytest.mark.parametrize(
        "body",
        [
            b'{"name": "\xff\xfe"}',
            b'{"name": "\\ud800"}',
            b"[" * 100_000 + b"]" * 100_000,
            b'{"name": "a", "partitions": NaN}',
            b"",
        ],
        ids=["invalid-utf8", "lone-surrogate", "deep-nesting", "nan", "empty"],
    )
    async def test_a_body_that_is_not_valid_json_is_a_400(
        self, client: Client, body: bytes
    ) -> None:
        error = await refused(await client.post("/v1/topics", data=body, headers=JSON))
        assert error["code"] in {"invalid_json", "invalid_request"}

    async def test_a_body_over_the_limit_is_a_413_before_it_is_read(self, client: Client) -> None:
        body = io.BytesIO(b"x" * (BODY_LIMIT + 1))
        error = await refused(await client.post("/v1/topics", data=body, headers=JSON), 413)
        assert error["code"] == "request_too_large"


#: (path template, body, the field the error names): numbers out of every range.
NUMBERS: list[tuple[str, dict[str, Any], str]] = [
    ("/v1/topics", {"name": "n", "partitions": 10**20}, "partitions"),
    ("/v1/topics", {"name": "n", "partitions": 0}, "partitions"),
    ("/v1/topics", {"name": "n", "retention_seconds": -1}, "retention_seconds"),
    ("/v1/topics", {"name": "n", "max_messages": 10**30}, "max_messages"),
    ("/v1/topics", {"name": "n", "dedup_window_seconds": 1.5}, "dedup_window_seconds"),
    ("{topic}/messages", {"messages": [{"data": "x", "ttl_seconds": -1}]}, "ttl_seconds"),
    ("{topic}/messages", {"messages": [{"data": "x", "ttl_seconds": 1e308}]}, "ttl_seconds"),
    ("{topic}/messages", {"messages": [{"data": "x", "delay_seconds": 10**20}]}, "delay"),
    ("{topic}/messages", {"messages": [{"data": "x", "deliver_at": 10**20}]}, "deliver_at"),
    ("{topic}/messages", {"messages": [{"data": "x", "deliver_at": -1}]}, "deliver_at"),
    ("{sub}/pull", {"max_messages": 0}, "max_messages"),
    ("{sub}/pull", {"max_messages": 10**20}, "max_messages"),
    ("{sub}/pull", {"wait_seconds": -1}, "wait_seconds"),
    ("{sub}/pull", {"wait_seconds": 1e308}, "wait_seconds"),
    ("{sub}/nack", {"ack_ids": ["a"], "delay_seconds": -0.5}, "delay_seconds"),
    ("{sub}/extend", {"ack_ids": ["a"], "seconds": 10**20}, "seconds"),
    ("{sub}/ack", {"ack_ids": []}, "ack_ids"),
    ("{sub}/seek", {"timestamp": 10**20}, "timestamp"),
    ("/v1/subscriptions", {"name": "s", "topic": "t", "max_in_flight": 10**20}, "max_in_flight"),
    ("/v1/subscriptions", {"name": "s", "topic": "t", "ack_deadline_seconds": 0}, "ack_deadline"),
]


class TestNumbers:
    @pytest.mark.parametrize(("path", "body", "field"), NUMBERS)
    async def test_numbers_out_of_range_are_a_400_naming_the_field(
        self, client: Client, path: str, body: dict[str, Any], field: str
    ) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        url = path.format(topic=f"/v1/topics/{topic}", sub=f"/v1/subscriptions/{sub}")
        error = await refused(await client.post(url, data=json.dumps(body), headers=JSON))
        assert field in error["field"]


class TestNames:
    @pytest.mark.parametrize(
        "name",
        ["%C3%BCn%C3%AFcode", "a%2Fb", "..", "a" * 5000, "%00", "-leading-dash", "a%20b"],
        ids=["unicode", "slash", "dot-dot", "very-long", "nul", "dash", "space"],
    )
    async def test_odd_names_in_paths_are_a_400_invalid_name(
        self, client: Client, name: str
    ) -> None:
        for method, path in [
            ("GET", f"/v1/topics/{name}"),
            ("POST", f"/v1/subscriptions/{name}/pull"),
        ]:
            url = client.make_url(path).with_path(path, encoded=True)
            error = await refused(await client.session.request(method, url, json={}))
            assert error["code"] == "invalid_name"

    @pytest.mark.parametrize("name", ["ünïcode", "a/b", "..", "x" * 250, "", "a b", "\u0000"])
    async def test_odd_names_in_bodies_are_a_400(self, client: Client, name: str) -> None:
        topic = await create_topic(client)
        for path, body in [
            ("/v1/topics", {"name": name}),
            ("/v1/subscriptions", {"name": name, "topic": topic}),
            ("/v1/subscriptions", {"name": "ok", "topic": name}),
        ]:
            error = await refused(await client.post(path, json=body))
            assert error["code"] == "invalid_request"

    async def test_a_message_id_with_unicode_digits_names_no_message(self, client: Client) -> None:
        topic = await create_topic(client)
        fetched = await client.get(f"/v1/topics/{topic}/messages/%C2%B2-1")
        browsed = await client.get(f"/v1/topics/{topic}/messages?after=%C2%B2-1")
        assert (await refused(fetched, 404))["code"] == "message_not_found"
        assert (await refused(browsed))["field"] == "after"


class TestMessages:
    @pytest.mark.parametrize(
        "message",
        [
            {"data": "%%%", "encoding": "base64"},
            {"data": "AAA", "encoding": "base64"},
            {"data": "x", "attributes": {f"k{i}": "v" for i in range(40_000)}},
            {"data": "x", "attributes": {"": "v"}},
            {"data": "x", "attributes": {"k": 1}},
            {"data": "x", "key": "k" * 2000},
            {"data": "x", "delivery_mode": "exactly_once"},
            {"data": 5},
        ],
        ids=[
            "bad-base64",
            "bad-padding",
            "huge-attributes",
            "empty-name",
            "number-value",
            "long-key",
            "no-dedup-id",
            "number-data",
        ],
    )
    async def test_a_malformed_message_is_a_400(
        self, client: Client, message: dict[str, Any]
    ) -> None:
        topic = await create_topic(client)
        response = await client.post(f"/v1/topics/{topic}/messages", json={"messages": [message]})
        await refused(response)

    async def test_pubsubgo_payloads_that_are_not_base64_are_refused(self, client: Client) -> None:
        topic = await create_topic(client)
        one = await client.post(f"/v1/publish/{topic}", json={"payload": "not base64!"})
        batch = await client.post(
            f"/v1/publish/{topic}/batch", json={"messages": [{"payload": "!"}, {"ttl": 10**30}]}
        )
        assert (await refused(one))["code"] == "invalid_request"
        assert (await refused(batch))["code"] == "batch_rejected"

    @pytest.mark.parametrize(
        "query", ["async=yes", "async=1", "async=true&async=false", "nothing=1"]
    )
    async def test_query_strings_are_as_strict_as_bodies(self, client: Client, query: str) -> None:
        topic = await create_topic(client)
        url = f"/v1/topics/{topic}/messages?{query}"
        await refused(await client.post(url, json={"messages": [{"data": "x"}]}))


#: Frames a client might get wrong, with the code of the error frame they get.
BAD_FRAMES: list[tuple[str, str]] = [
    ("{not json", "invalid_json"),
    ('{"type": "subscribe", "subscription": "s", "max_in_flight": 1e400}', "invalid_frame"),
    ("[]", "invalid_frame"),
    ("null", "invalid_frame"),
    ('{"no": "type"}', "unknown_type"),
    ('{"type": "dance"}', "unknown_type"),
    ('{"type": "subscribe"}', "invalid_frame"),
    ('{"type": "subscribe", "subscription": "s", "max_in_flight": 100000000000000000000}',
     "invalid_frame"),
    ('{"type": "ack", "ack_ids": []}', "invalid_frame"),
    ('{"type": "ack", "ack_ids": ["a"], "request_id": 100000000000000000000000}',
     "invalid_frame"),
    ('{"type": "nack", "ack_ids": ["a"], "delay_seconds": -1}', "invalid_frame"),
    ('{"type": "publish", "topic": "t", "messages": [{"data": "%%", "encoding": "base64"}]}',
     "invalid_frame"),
    ('{"type": "publish", "topic": "..", "messages": [{"data": "x"}]}', "invalid_frame"),
    ('{"type": "subscribe", "subscription": "a/b"}', "invalid_frame"),
    ('{"type": "unsubscribe", "subscription": "never"}', "not_subscribed"),
]  # fmt: skip


class TestWebSocketFrames:
    async def test_each_bad_frame_is_an_error_frame_and_the_socket_stays_open(
        self, client: Client
    ) -> None:
        topic = await create_topic(client)
        async with client.ws_connect("/v1/ws") as ws:
            answers = []
            for text, _ in BAD_FRAMES:
                await ws.send_str(text)
                answers.append(await receive(ws))
            await ws.send_bytes(b"\x00\x01")
            binary = await receive(ws)
            await ws.send_json({"type": "publish", "topic": topic, "messages": [{"data": "ok"}]})
            still_open = await receive(ws)
        assert [(a["type"], a["code"]) for a in answers] == [
            ("error", code) for _, code in BAD_FRAMES
        ]
        assert binary["code"] == "binary_frame"
        assert still_open["type"] == "published"

    async def test_a_thousand_mutated_frames_never_break_the_socket(self, client: Client) -> None:
        # Given valid frames, mutated field by field by a seeded generator
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        frames = list(mutated_frames(random.Random(8), topic, sub, 1000))
        async with client.ws_connect("/v1/ws") as ws:
            # When they are sent, then a last publish asking for an answer
            for frame in frames:
                await ws.send_str(frame)
            await ws.send_json(
                {
                    "type": "publish",
                    "topic": topic,
                    "messages": [{"data": "last"}],
                    "request_id": "end",
                }
            )
            answers = await answers_until(ws, "end")
        # Then the socket answered everything and never failed inside
        assert not [a for a in answers if a.get("code") == "internal"]
        assert answers[-1]["type"] == "published"

    async def test_a_frame_over_the_size_limit_closes_the_socket_with_1009(
        self, client: Client
    ) -> None:
        raw = await RawSocket.connect(client.host, port_of(client))
        await raw.frame(b'{"x": "' + b"y" * BODY_LIMIT + b'"}')
        assert await raw.close_code() == 1009
        await raw.aclose()

    async def test_a_text_frame_that_is_not_utf8_closes_the_socket_with_1007(
        self, client: Client
    ) -> None:
        raw = await RawSocket.connect(client.host, port_of(client))
        await raw.frame(b'{"type": "\xff\xfe"}')
        assert await raw.close_code() == 1007
        await raw.aclose()


def port_of(client: Client) -> int:
    port = client.port
    assert port is not None
    return port


async def answers_until(ws: Any, request_id: str) -> list[dict[str, Any]]:
    """Every frame up to the answer to ``request_id``."""
    answers: list[dict[str, Any]] = []
    while not answers or answers[-1].get("request_id") != request_id:
        message = await ws.receive(timeout=10)
        assert message.type is WSMsgType.TEXT, message
        answers.append(message.json())
    return answers


_VALID_FRAMES = [
    {"type": "subscribe", "subscription": "{sub}", "max_in_flight": 5},
    {"type": "unsubscribe", "subscription": "{sub}"},
    {"type": "ack", "ack_ids": ["0.a"], "request_id": 1},
    {"type": "nack", "ack_ids": ["0.a"], "delay_seconds": 1},
    {"type": "extend", "ack_ids": ["0.a"], "seconds": 5},
    {"type": "publish", "topic": "{topic}", "messages": [{"data": "x", "ttl_seconds": 60}]},
]
_ODD_VALUES: list[Any] = [
    None, True, -1, 0, 2**64, 1e308, -1e308, "", "\u0000", "x" * 300, [], {}, [1, "a"],
    {"data": "x"}, "..", "ünï", "%%%",
]  # fmt: skip


def mutated_frames(rng: random.Random, topic: str, sub: str, count: int) -> list[str]:
    """``count`` frames: a valid frame with one field replaced, removed or added."""
    frames = []
    for _ in range(count):
        frame = json.loads(json.dumps(rng.choice(_VALID_FRAMES)).replace("{sub}", sub))
        frame = json.loads(json.dumps(frame).replace("{topic}", topic))
        field = rng.choice([*frame, "extra", "request_id"])
        roll = rng.random()
        if roll < 0.2:
            frame.pop(field, None)
        else:
            frame[field] = rng.choice(_ODD_VALUES)
        frames.append(json.dumps(frame))
    return frames
