"""What a publish is refused for, on every route that publishes: an asynchronous publish
(``?async=true``) is checked before its 202 like a synchronous one, and a message with
neither data nor attributes is refused everywhere (as Google Pub/Sub does)."""

from __future__ import annotations

import base64
import time
from typing import Any

import orjson
import pytest

from tests.integration.conftest import Client, create_subscription, create_topic, pull

EIGHT_DAYS = 8 * 24 * 3600


async def _publish(
    client: Client, topic: str, messages: list[dict[str, Any]], query: str = ""
) -> tuple[int, dict[str, Any]]:
    response = await client.post(f"/v1/topics/{topic}/messages{query}", json={"messages": messages})
    return response.status, await response.json()


class TestAsyncPublish:
    @pytest.mark.parametrize(
        "message",
        [
            {"data": "later", "deliver_at": time.time() + EIGHT_DAYS},
            {"data": "x", "delivery_mode": "exactly_once"},
            {"data": ""},
            {"data": "x", "attributes": {f"a{i}": "v" for i in range(65)}},
        ],
        ids=["deliver_at 8 days ahead", "exactly_once without dedup_id", "empty", "65 attrs"],
    )
    async def test_a_message_the_synchronous_path_refuses_is_refused_before_any_202(
        self, client: Client, message: dict[str, Any]
    ) -> None:
        # Given a topic with a subscription
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        # When the message is published with and without async
        sync_status, sync_answer = await _publish(client, topic, [message])
        async_status, async_answer = await _publish(client, topic, [message], "?async=true")
        # Then both refuse it the same way, and nothing is stored
        assert sync_status == async_status == 400
        assert async_answer["error"]["code"] == sync_answer["error"]["code"]
        assert await pull(client, sub) == []

    async def test_an_async_publish_to_a_missing_topic_is_a_404(self, client: Client) -> None:
        status, answer = await _publish(client, "nowhere", [{"data": "x"}], "?async=true")
        assert (status, answer["error"]["code"]) == (404, "topic_not_found")

    async def test_a_valid_async_publish_is_accepted_and_stored(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)

        status, answer = await _publish(client, topic, [{"data": "soon"}], "?async=true")
        assert (status, answer) == (202, {"accepted": 1})
        # Stored in the background; pull waits for it.
        [message] = await pull(client, sub, wait_seconds=5)
        assert message["data"] == "soon"


class TestEmptyMessages:
    async def test_a_message_without_data_or_attributes_is_refused(self, client: Client) -> None:
        topic = await create_topic(client)
        status, answer = await _publish(client, topic, [{"data": "ok"}, {"data": ""}])
        assert status == 400
        assert answer["error"]["code"] == "invalid_message"
        assert answer["error"]["field"] == "messages[1].data"

    async def test_a_message_with_attributes_only_is_stored(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        status, _ = await _publish(client, topic, [{"data": "", "attributes": {"k": "v"}}])
        assert status == 201
        [message] = await pull(client, sub)
        assert (message["data"], message["attributes"]) == ("", {"k": "v"})

    async def test_an_empty_legacy_message_fails_alone(self, client: Client) -> None:
        topic = await create_topic(client)
        entries = [{"payload": base64.b64encode(b"x").decode()}, {"payload": ""}]
        response = await client.post(f"/v1/publish/{topic}/batch", json={"messages": entries})
        answer = await response.json()
        assert response.status == 206
        assert [f["index"] for f in answer["failed"]] == [1]
        assert answer["failed"][0]["error"]["code"] == "invalid_message"

    async def test_an_empty_websocket_publish_gets_an_error_frame(self, client: Client) -> None:
        topic = await create_topic(client)
        frame = {"type": "publish", "topic": topic, "messages": [{"data": ""}], "request_id": 1}
        async with client.ws_connect("/v1/ws") as ws:
            await ws.send_str(orjson.dumps(frame).decode())
            answer = await ws.receive_json(timeout=5)
        assert (answer["type"], answer["code"], answer["request_id"]) == (
            "error",
            "invalid_message",
            1,
        )
