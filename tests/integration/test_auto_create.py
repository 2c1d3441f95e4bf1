"""Topics created by their first publish (``topics.auto_create``), over every publish route
and on both backends; with auth on, only a token that may administer the name creates one."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from pubsubgo.config import Settings, TopicSettings
from pubsubgo.ports.storage import Storage
from tests.conftest import unique
from tests.integration.conftest import Client
from tests.integration.security import ADMIN, PUBLISHER, auth_settings, bearer

MESSAGES = {"messages": [{"data": "first"}]}


@pytest.fixture
def storage(on_every_backend: Storage) -> Storage:
    return on_every_backend


@pytest.fixture
def settings(settings: Settings) -> Settings:
    topics = TopicSettings(auto_create=True, default_partitions=3)
    return settings.model_copy(update={"topics": topics})


async def _described(client: Client, topic: str, **headers: str) -> dict[str, Any]:
    response = await client.get(f"/v1/topics/{topic}", headers=headers)
    assert response.status == 200, await response.text()
    described: dict[str, Any] = await response.json()
    return described


class TestEveryRouteCreates:
    async def test_a_rest_publish_creates_the_topic_with_the_default_partitions(
        self, client: Client
    ) -> None:
        topic = unique("auto")
        response = await client.post(f"/v1/topics/{topic}/messages", json=MESSAGES)
        assert response.status == 201
        described = await _described(client, topic)
        assert (described["partitions"], described["stats"]["messages"]) == (3, 1)

    async def test_an_async_publish_creates_it_before_answering(self, client: Client) -> None:
        topic = unique("auto")
        response = await client.post(f"/v1/topics/{topic}/messages?async=true", json=MESSAGES)
        assert response.status == 202
        assert (await _described(client, topic))["partitions"] == 3

    async def test_the_pubsubgo_aliases_create_it(self, client: Client) -> None:
        one, batch = unique("auto"), unique("auto")
        payload = {"payload": base64.b64encode(b"x").decode()}
        assert (await client.post(f"/v1/publish/{one}", json=payload)).status == 201
        answer = await client.post(f"/v1/publish/{batch}/batch", json={"messages": [payload]})
        assert answer.status == 201
        for topic in (one, batch):
            assert (await _described(client, topic))["stats"]["messages"] == 1

    async def test_a_websocket_publish_creates_it(self, client: Client) -> None:
        topic = unique("auto")
        frame = {"type": "publish", "topic": topic, "messages": [{"data": "x"}], "request_id": 1}
        async with client.ws_connect("/v1/ws") as ws:
            await ws.send_str(orjson.dumps(frame).decode())
            answer = await ws.receive_json(timeout=5)
        assert answer["type"] == "published"
        assert (await _described(client, topic))["stats"]["messages"] == 1

    @pytest.mark.parametrize(
        "message", [{"data": ""}, {"data": "x", "delivery_mode": "exactly_once"}]
    )
    async def test_a_refused_publish_creates_no_topic(
        self, client: Client, message: dict[str, Any]
    ) -> None:
        topic = unique("auto")
        for query in ("", "?async=true"):
            response = await client.post(
                f"/v1/topics/{topic}/messages{query}", json={"messages": [message]}
            )
            assert response.status == 400
        assert (await client.get(f"/v1/topics/{topic}")).status == 404


class TestOff:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"topics": TopicSettings()})

    async def test_without_auto_create_a_missing_topic_is_a_404(self, client: Client) -> None:
        response = await client.post(f"/v1/topics/{unique('none')}/messages", json=MESSAGES)
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "topic_not_found"


class TestPermission:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return auth_settings(settings)

    async def test_a_publish_only_token_may_not_create_a_topic(self, client: Client) -> None:
        topic = unique("orders")  # the publisher may publish to orders*, not administer it
        response = await client.post(
            f"/v1/topics/{topic}/messages", json=MESSAGES, headers=bearer(PUBLISHER)
        )
        assert response.status == 403
        error = (await response.json())["error"]
        assert (error["code"], error["action"], error["name"]) == (
            "permission_denied",
            "admin",
            topic,
        )
        assert (await client.get(f"/v1/topics/{topic}", headers=bearer(ADMIN))).status == 404

    async def test_an_admin_token_creates_it(self, client: Client) -> None:
        topic = unique("orders")
        response = await client.post(
            f"/v1/topics/{topic}/messages", json=MESSAGES, headers=bearer(ADMIN)
        )
        assert response.status == 201
        assert (await _described(client, topic, **bearer(ADMIN)))["partitions"] == 3
