"""REST: publishing, message encodings, size limits, async publish and PubSubGo aliases."""

from __future__ import annotations

import base64
import io
import logging

import orjson
import pytest
from aiohttp import ClientResponse

from pubsubgo.core.limits import MIB
from tests.integration.conftest import (
    Client,
    create_subscription,
    create_topic,
    eventually,
    publish,
    pull,
)


class TestEncodings:
    async def test_base64_data_is_stored_as_bytes_and_delivered_as_base64_when_not_utf8(
        self, client: Client
    ) -> None:
        # Given bytes that are not UTF-8
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        raw = b"\xff\x00binary"
        encoded = base64.b64encode(raw).decode()
        # When
        await publish(client, topic, encoded, encoding="base64")
        [message] = await pull(client, sub)
        # Then
        assert message["encoding"] == "base64"
        assert base64.b64decode(message["data"]) == raw

    async def test_base64_of_utf8_text_is_delivered_as_text(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, base64.b64encode("héllo".encode()).decode(), encoding="base64")
        [message] = await pull(client, sub)
        assert message == message | {"data": "héllo", "encoding": "utf-8"}

    async def test_invalid_base64_is_a_400(self, client: Client) -> None:
        topic = await create_topic(client)
        body = {"messages": [{"data": "not base64!", "encoding": "base64"}]}
        response = await client.post(f"/v1/topics/{topic}/messages", json=body)
        assert response.status == 400
        assert "base64" in (await response.json())["error"]["message"]

    async def test_an_unknown_encoding_is_a_400(self, client: Client) -> None:
        topic = await create_topic(client)
        body = {"messages": [{"data": "x", "encoding": "rot13"}]}
        response = await client.post(f"/v1/topics/{topic}/messages", json=body)
        assert response.status == 400
        assert (await response.json())["error"]["field"] == "messages.0.encoding"


class TestPublishErrors:
    async def test_publishing_to_a_missing_topic_is_a_404(self, client: Client) -> None:
        body = {"messages": [{"data": "x"}]}
        response = await client.post("/v1/topics/nowhere/messages", json=body)
        assert response.status == 404

    async def test_an_empty_batch_is_a_400(self, client: Client) -> None:
        topic = await create_topic(client)
        response = await client.post(f"/v1/topics/{topic}/messages", json={"messages": []})
        assert response.status == 400

    async def test_exactly_once_without_dedup_id_is_a_400_from_the_domain(
        self, client: Client
    ) -> None:
        topic = await create_topic(client)
        body = {"messages": [{"data": "x", "delivery_mode": "exactly_once"}]}
        response = await client.post(f"/v1/topics/{topic}/messages", json=body)
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_message"

    async def test_a_full_topic_is_a_429_with_retry_after(self, client: Client) -> None:
        topic = await create_topic(client, max_messages=1)
        await publish(client, topic, "fits")
        body = {"messages": [{"data": "x"}]}
        response = await client.post(f"/v1/topics/{topic}/messages", json=body)
        assert response.status == 429
        assert response.headers["Retry-After"] == "1"
        assert (await response.json())["error"]["code"] == "topic_full"


async def post_large(client: Client, path: str, body: object) -> ClientResponse:
    """POST a large JSON body as a stream (aiohttp warns about large in-memory bodies)."""
    return await client.post(
        path, data=io.BytesIO(orjson.dumps(body)), headers={"Content-Type": "application/json"}
    )


class TestLimits:
    async def test_a_message_over_1_mib_is_a_413(self, client: Client) -> None:
        topic = await create_topic(client)
        body = {"messages": [{"data": "x" * (MIB + 1)}]}
        response = await post_large(client, f"/v1/topics/{topic}/messages", body)
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "message_too_large"

    async def test_a_batch_of_more_than_1000_messages_is_a_413(self, client: Client) -> None:
        topic = await create_topic(client)
        body = {"messages": [{"data": "x"}] * 1001}
        response = await client.post(f"/v1/topics/{topic}/messages", json=body)
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "too_many_messages"

    async def test_a_batch_over_10_mib_is_a_413(self, client: Client) -> None:
        topic = await create_topic(client)
        body = {"messages": [{"data": "x" * (MIB - 100)}] * 11}
        response = await post_large(client, f"/v1/topics/{topic}/messages", body)
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "message_too_large"

    async def test_a_body_over_16_mib_is_a_413_in_the_json_error_shape(
        self, client: Client
    ) -> None:
        topic = await create_topic(client)
        body = {"messages": [{"data": "x" * (16 * MIB)}]}
        response = await post_large(client, f"/v1/topics/{topic}/messages", body)
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "request_too_large"


class TestAsyncPublish:
    async def test_async_publish_answers_202_and_stores_the_messages_soon(
        self, client: Client
    ) -> None:
        # Given
        topic = await create_topic(client)
        body = {"messages": [{"data": "later"}]}
        # When
        response = await client.post(f"/v1/topics/{topic}/messages?async=true", json=body)
        # Then
        assert response.status == 202
        assert await response.json() == {"accepted": 1}

        async def stored() -> bool:
            stats = await (await client.get(f"/v1/topics/{topic}/stats")).json()
            return bool(stats["messages"] == 1)

        await eventually(stored, "the async publish to be stored")

    async def test_a_failed_async_publish_is_logged(
        self, client: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Given a full topic: only storing can tell, so the failure comes after the 202
        caplog.set_level(logging.ERROR, logger="pubsubgo")
        topic = await create_topic(client, max_messages=1)
        await publish(client, topic, "fills it")
        body = {"messages": [{"data": "lost?"}]}
        # When
        response = await client.post(f"/v1/topics/{topic}/messages?async=true", json=body)
        # Then
        assert response.status == 202

        async def logged() -> bool:
            failed = f"async publish to {topic} failed"
            return any(failed in r.getMessage() for r in caplog.records)

        await eventually(logged, "the failure to be logged")


class TestPubSubGoAliases:
    async def test_publish_alias_takes_a_base64_payload_and_headers(self, client: Client) -> None:
        # Given
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        payload = base64.b64encode(b"legacy").decode()
        # When
        response = await client.post(
            f"/v1/publish/{topic}",
            json={"payload": payload, "key": "k", "headers": {"h": "v"}, "ttl": 60},
        )
        # Then
        assert response.status == 201
        assert (await response.json())["topic"] == topic
        [message] = await pull(client, sub)
        assert message["data"] == "legacy"
        assert message["attributes"] == {"h": "v"}
        assert message["expires_at"] is not None

    async def test_a_batch_with_a_bad_entry_is_a_206_listing_it(self, client: Client) -> None:
        # Given one valid entry, one bad base64 and one breaking a domain rule
        topic = await create_topic(client)
        good = {"payload": base64.b64encode(b"ok").decode()}
        bad_base64 = {"payload": "%%%"}
        no_dedup = {"payload": good["payload"], "delivery_mode": "exactly_once"}
        # When
        response = await client.post(
            f"/v1/publish/{topic}/batch", json={"messages": [good, bad_base64, no_dedup]}
        )
        # Then
        assert response.status == 206
        body = await response.json()
        assert body["message_ids"][0] is not None
        assert body["message_ids"][1:] == [None, None]
        assert [f["index"] for f in body["failed"]] == [1, 2]
        assert body["failed"][1]["error"]["code"] == "invalid_message"

    async def test_a_batch_without_failures_is_a_201(self, client: Client) -> None:
        topic = await create_topic(client)
        entry = {"payload": base64.b64encode(b"ok").decode()}
        response = await client.post(f"/v1/publish/{topic}/batch", json={"messages": [entry] * 3})
        assert response.status == 201
        assert len((await response.json())["message_ids"]) == 3

    async def test_a_batch_where_everything_fails_is_a_400(self, client: Client) -> None:
        topic = await create_topic(client)
        response = await client.post(
            f"/v1/publish/{topic}/batch", json={"messages": [{"payload": "%"}, {"nope": 1}]}
        )
        assert response.status == 400
        error = (await response.json())["error"]
        assert error["code"] == "batch_rejected"
        assert len(error["failed"]) == 2
