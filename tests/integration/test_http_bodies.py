"""Publish and pull bodies over REST: plain and spelled-out batches, the refusal of every
malformed body (by code and field, never by a library's wording), pull and ack answers in
their schema, and the request timeout."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import pytest
from dependency_injector import providers
from pytest_aiohttp import AiohttpClient

from pubsubgo.adapters.wire.codec import decode
from pubsubgo.adapters.wire.schemas.responses import PublishResponse, PullResponse
from pubsubgo.config import LimitSettings, Settings
from pubsubgo.containers import api_app, build_container
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import ManualClock
from tests.integration.conftest import (
    DEADLINE_SECONDS,
    Client,
    create_subscription,
    create_topic,
    eventually,
    pull,
)

JSON = {"Content-Type": "application/json"}
#: Small limits, so that the size refusals need no large bodies.
LIMITS = LimitSettings(
    max_message_bytes=16, max_batch_messages=3, max_batch_bytes=40, max_body_bytes=4096
)
#: Texts whose JSON escapes differ between writers, if anywhere.
TEXTS = [
    "a",
    'quote " backslash \\ slash /',
    "controls \x00\x01\t\n\r\x1f\x7f",
    "é 中文 😀",
    "\u2028\u2029",
]


@pytest.fixture
async def limited(aiohttp_client: AiohttpClient, settings: Settings, storage: Storage) -> Client:
    """The app with small size limits."""
    container = build_container(settings.model_copy(update={"limits": LIMITS}))
    container.storage.override(providers.Object(storage))
    return await aiohttp_client(api_app(container))


async def post_messages(
    client: Client, topic: str, body: bytes, headers: dict[str, str] = JSON, query: str = ""
) -> tuple[int, str, bytes]:
    response = await client.post(f"/v1/topics/{topic}/messages{query}", data=body, headers=headers)
    return response.status, response.headers["Content-Type"], await response.read()


def batch(*messages: str) -> bytes:
    return b'{"messages":[' + b",".join(m.encode() for m in messages) + b"]}"


def error(code: str, **details: Any) -> tuple[str, dict[str, Any]]:
    return code, details


def invalid(field: str) -> tuple[str, dict[str, Any]]:
    return "invalid_request", {"field": field}


#: Bodies the broker refuses: the status, the error code and the details it names.
REFUSED: dict[str, tuple[bytes, int, tuple[str, dict[str, Any]]]] = {
    "another field": (batch('{"data":"a","extra":1}'), 400, invalid("messages.0.extra")),
    "number data": (batch('{"data":5}'), 400, invalid("messages.0.data")),
    "null data": (batch('{"data":null}'), 400, invalid("messages.0.data")),
    "no data": (batch("{}"), 400, invalid("messages.0.data")),
    "a message not an object": (batch('"a"'), 400, invalid("messages.0")),
    "messages not a list": (b'{"messages":{"data":"a"}}', 400, invalid("messages")),
    "no messages": (batch(), 400, invalid("messages")),
    "another top-level field": (b'{"messages":[{"data":"a"}],"x":1}', 400, invalid("x")),
    "an empty object": (b"{}", 400, invalid("messages")),
    "an empty body": (b"", 400, invalid("messages")),
    "an array": (b'[{"data":"a"}]', 400, invalid("")),
    "bad base64": (
        batch('{"data":"not base64!","encoding":"base64"}'),
        400,
        invalid("messages.0.data"),
    ),
    "bad JSON": (b'{"messages":[', 400, error("invalid_json")),
    "a lone surrogate": (batch('{"data":"\\ud800"}'), 400, error("invalid_json")),
    "invalid UTF-8": (b'{"messages":[{"data":"\xff"}]}', 400, error("invalid_json")),
    "a message over its size": (
        batch('{"data":"' + "x" * 17 + '"}'),
        413,
        error("message_too_large", size=17, limit=16),
    ),
    "too many messages": (
        batch(*['{"data":"a"}'] * 4),
        413,
        error("too_many_messages", count=4, limit=3),
    ),
    "a batch over its size": (
        batch(*['{"data":"' + "x" * 15 + '"}'] * 3),
        413,
        error("message_too_large", size=45, limit=40),
    ),
    "a body over its size": (
        batch('{"data":"' + "x" * 5000 + '"}'),
        413,
        error("request_too_large"),
    ),
}


class TestPlainPublish:
    async def test_a_plain_batch_is_stored_as_the_same_batch_spelled_out(
        self, client: Client
    ) -> None:
        # Given one topic for plain messages and one for the same ones with every
        # default written out, which only the full model reads
        plain_topic, full_topic = await create_topic(client), await create_topic(client)
        plain_sub = await create_subscription(client, plain_topic)
        full_sub = await create_subscription(client, full_topic)
        spelled: dict[str, Any] = {"encoding": "utf-8", "attributes": {}, "key": None}
        # When
        plain = await client.post(
            f"/v1/topics/{plain_topic}/messages", json={"messages": [{"data": t} for t in TEXTS]}
        )
        full = await client.post(
            f"/v1/topics/{full_topic}/messages",
            json={"messages": [{"data": t, **spelled} for t in TEXTS]},
        )
        # Then both answer alike, in the response model's JSON
        for response in (plain, full):
            assert response.status == 201
            assert response.headers["Content-Type"] == "application/json"
            assert len(decode(await response.read(), PublishResponse).ids) == len(TEXTS)
        assert (await plain.json())["ids"] == (await full.json())["ids"]
        # and store the same messages
        assert strip(await pull(client, plain_sub)) == strip(await pull(client, full_sub))
        assert [m["data"] for m in await browse(client, plain_topic)] == TEXTS

    @pytest.mark.parametrize("case", list(REFUSED))
    async def test_a_malformed_body_is_refused_by_code_and_field(
        self, limited: Client, case: str
    ) -> None:
        body, status, (code, details) = REFUSED[case]
        topic = await create_topic(limited)
        response = await limited.post(f"/v1/topics/{topic}/messages", data=body, headers=JSON)
        answer = (await response.json())["error"]
        assert (response.status, answer["code"]) == (status, code)
        assert {key: answer.get(key) for key in details} == details
        assert answer["message"]  # worded for people; its text is not part of the contract
        if code == "invalid_request":
            assert answer["message"].startswith(f"{answer['field'] or 'body'}: ")
        assert response.headers["Content-Type"] == "application/json; charset=utf-8"
        assert await browse(limited, topic) == []

    async def test_a_body_not_declared_as_json_is_refused(self, client: Client) -> None:
        topic = await create_topic(client)
        response = await client.post(
            f"/v1/topics/{topic}/messages",
            data=batch('{"data":"a"}'),
            headers={"Content-Type": "text/plain"},
        )
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "unsupported_content_type"

    async def test_an_unknown_topic_is_the_same_404_for_every_body(self, client: Client) -> None:
        answers = [
            await post_messages(client, "no-such-topic", body)
            for body in (batch('{"data":"a"}'), batch('{"data":"a","encoding":"utf-8"}'))
        ]
        assert answers[0] == answers[1]
        assert answers[0][0] == 404

    async def test_async_answers_202_with_the_count_and_stores_later(self, client: Client) -> None:
        topic = await create_topic(client)
        status, content_type, raw = await post_messages(
            client, topic, batch('{"data":"a"}', '{"data":"b"}'), query="?async=true"
        )
        assert (status, content_type, raw) == (202, "application/json", b'{"accepted":2}')

        async def stored() -> bool:
            return len(await browse(client, topic)) == 2

        await eventually(stored, "the async publish to be stored")

    async def test_a_bad_query_is_refused_before_the_body_is_read(self, client: Client) -> None:
        topic = await create_topic(client)
        response = await client.post(
            f"/v1/topics/{topic}/messages?async=yes", data=b"not json", headers=JSON
        )
        assert response.status == 400
        assert (await response.json())["error"]["field"] == "async"


class TestPullAnswer:
    async def test_is_in_the_pull_response_schema(self, client: Client, clock: ManualClock) -> None:
        # Given messages of every shape, published at whole seconds and in between
        topic = await create_topic(client, partitions=2)
        sub = await create_subscription(client, topic)
        shapes: list[dict[str, Any]] = [
            {"data": "text"},
            {"data": base64.b64encode(b"\xff\x00\xfe").decode(), "encoding": "base64"},
            {"data": "with attributes", "attributes": {"k": "v", "é": '\n"'}, "key": "k1"},
            {"data": "expiring", "ttl_seconds": 60.5, "priority": "high"},
            {"data": "scheduled", "deliver_at": "2023-11-14T22:13:20.250000Z"},
            {"data": "once", "delivery_mode": "exactly_once", "dedup_id": "d-1"},
            {"data": "at most once", "delivery_mode": "at_most_once", "priority": "low"},
            {"data": '\x00\x1f\u2028 😀 \\ "', "priority": "critical"},
        ]
        for step, shape in enumerate(shapes):
            response = await client.post(
                f"/v1/topics/{topic}/messages", json={"messages": [shape, {"data": "plain"}]}
            )
            assert response.status == 201, await response.text()
            clock.advance(0.123456 if step % 2 == 0 else 0.876544)  # whole seconds, then not
        # When
        response = await client.post(f"/v1/subscriptions/{sub}/pull", json={})
        # Then
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert len(decode(await response.read(), PullResponse).messages) == 2 * len(shapes)
        received = (await response.json())["messages"]
        assert len(received) == 2 * len(shapes)
        published = {m["published_at"] for m in received}
        assert "2023-11-14T22:13:20Z" in published  # no fraction at a whole second
        assert "2023-11-14T22:13:20.123456Z" in published
        assert all(m[f] is not None for m in received for f in ("ack_id", "deadline"))
        assert {m["encoding"] for m in received} == {"utf-8", "base64"}

    async def test_an_empty_pull_is_an_empty_list(self, client: Client) -> None:
        sub = await create_subscription(client, await create_topic(client))
        response = await client.post(f"/v1/subscriptions/{sub}/pull", json={})
        assert (response.status, await response.read()) == (200, b'{"messages":[]}')

    async def test_acks_answer_with_their_counts_and_unknown_ids(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await client.post(f"/v1/topics/{topic}/messages", json={"messages": [{"data": "a"}]})
        ack_id = (await pull(client, sub))[0]["ack_id"]
        for route, body, answer in [
            ("ack", {"ack_ids": [ack_id, 'x"é']}, {"acked": 1, "unknown": ['x"é']}),
            ("nack", {"ack_ids": ["y"]}, {"nacked": 0, "unknown": ["y"]}),
            ("extend", {"ack_ids": ["z"], "seconds": 5}, {"extended": 0, "unknown": ["z"]}),
        ]:
            response = await client.post(f"/v1/subscriptions/{sub}/{route}", json=body)
            assert response.status == 200
            assert response.headers["Content-Type"] == "application/json"
            assert await response.json() == answer


class TestRequestTimeout:
    @pytest.fixture
    async def timed(
        self, aiohttp_client: AiohttpClient, settings: Settings, storage: Storage
    ) -> Client:
        """The app with a short request timeout."""
        server = settings.server.model_copy(update={"request_timeout_seconds": 0.2})
        container = build_container(settings.model_copy(update={"server": server}))
        container.storage.override(providers.Object(storage))
        return await aiohttp_client(api_app(container))

    async def test_slow_requests_time_out_while_others_are_answered(self, timed: Client) -> None:
        # Given requests whose bodies never finish, sent one after another
        topic = await create_topic(timed)
        release = asyncio.Event()

        async def stalled() -> tuple[int, dict[str, Any]]:
            response = await timed.post(
                f"/v1/topics/{topic}/messages", data=half_body(release), headers=JSON
            )
            return response.status, await response.json()

        async with asyncio.timeout(DEADLINE_SECONDS):
            slow = [asyncio.create_task(stalled()) for _ in range(3)]
            # When a complete request comes meanwhile, it is answered
            status, _, _ = await post_messages(timed, topic, batch('{"data":"a"}'))
            assert status == 201
            # Then each stalled one gets the timeout
            answers = await asyncio.gather(*slow)
        release.set()
        assert all(status == 503 for status, _ in answers)
        assert {answer["error"]["code"] for _, answer in answers} == {"timeout"}
        assert {answer["error"]["timeout_seconds"] for _, answer in answers} == {0.2}

    async def test_the_timeout_holds_again_after_quiet_and_answered_requests(
        self, timed: Client
    ) -> None:
        topic = await create_topic(timed)
        release = asyncio.Event()
        for _ in range(2):
            status, _, _ = await post_messages(timed, topic, batch('{"data":"a"}'))
            assert status == 201
            async with asyncio.timeout(DEADLINE_SECONDS):
                response = await timed.post(
                    f"/v1/topics/{topic}/messages", data=half_body(release), headers=JSON
                )
            assert response.status == 503
            assert (await response.json())["error"]["code"] == "timeout"
        release.set()


async def half_body(release: asyncio.Event) -> AsyncIterator[bytes]:
    """The start of a body, and the rest never (until ``release``)."""
    yield b'{"messages": ['
    await release.wait()


async def browse(client: Client, topic: str) -> list[dict[str, Any]]:
    response = await client.get(f"/v1/topics/{topic}/messages")
    assert response.status == 200, await response.text()
    messages: list[dict[str, Any]] = (await response.json())["messages"]
    return messages


def strip(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Messages without what differs between two topics' copies of them."""
    return [
        {k: v for k, v in m.items() if k not in ("topic", "ack_id", "subscription")}
        for m in messages
    ]
