"""Limits: request rate per caller, WebSockets per broker, subscriptions per socket, and
the request timeout."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import pytest
from dependency_injector import providers
from pytest_aiohttp import AiohttpClient

from pubsubgo.adapters.wire.keys import BROKER
from pubsubgo.config import LimitSettings, ServerSettings, Settings
from pubsubgo.containers import api_app, build_container
from pubsubgo.core.topics import Topic
from pubsubgo.ports.storage import Storage
from tests.conftest import unique
from tests.integration.conftest import (
    DEADLINE_SECONDS,
    Client,
    create_subscription,
    create_topic,
    eventually,
)
from tests.integration.security import ADMIN, PUBLISHER, auth_settings, bearer
from tests.integration.test_websocket import receive, subscribe

Serve = Callable[..., Awaitable[Client]]
#: The headers of a WebSocket upgrade, to read the refusal's body.
UPGRADE = {
    "Upgrade": "websocket",
    "Connection": "Upgrade",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
}


@pytest.fixture
def serve(aiohttp_client: AiohttpClient, settings: Settings, storage: Storage) -> Serve:
    """Start the app with ``settings`` changed as asked (``limits=..., server=...``)."""

    async def start(**changes: object) -> Client:
        changed = settings.model_copy(update=changes)
        container = build_container(changed)
        container.storage.override(providers.Object(storage))
        return await aiohttp_client(api_app(container))

    return start


def limits(**fields: object) -> LimitSettings:
    return LimitSettings.model_validate(fields)


class TestRate:
    async def test_a_caller_over_its_rate_gets_a_429_rate_limited_with_retry_after(
        self, serve: Serve
    ) -> None:
        # Given two requests a second, two at once
        client = await serve(limits=limits(rate_per_second=0.5, rate_burst=2))
        # When a third comes at once
        answers = [await client.get("/v1/topics") for _ in range(3)]
        # Then
        assert [a.status for a in answers] == [200, 200, 429]
        error = (await answers[2].json())["error"]
        assert error["code"] == "rate_limited"
        assert 0 < error["retry_after_seconds"] <= 2
        assert answers[2].headers["Retry-After"] == "2"

    async def test_each_token_has_a_rate_of_its_own(self, serve: Serve, settings: Settings) -> None:
        client = await serve(
            limits=limits(rate_per_second=0.1, rate_burst=1), auth=auth_settings(settings).auth
        )
        first = await client.get("/v1/topics", headers=bearer(ADMIN))
        again = await client.get("/v1/topics", headers=bearer(ADMIN))
        other = await client.get("/v1/topics", headers=bearer(PUBLISHER))
        assert (first.status, again.status, other.status) == (200, 429, 200)

    async def test_probes_and_scrapes_are_never_rate_limited(self, serve: Serve) -> None:
        client = await serve(limits=limits(rate_per_second=0.1, rate_burst=1))
        await client.get("/v1/topics")
        statuses = {(await client.get(path)).status for path in ["/healthz", "/readyz"] * 5}
        assert statuses == {200}

    async def test_websocket_publishes_spend_the_rate_but_acks_do_not(self, serve: Serve) -> None:
        # Given a rate of 2 at once, one spent by the upgrade
        client = await serve(limits=limits(rate_per_second=0.1, rate_burst=2))
        topic = await create_topic_unlimited(client)
        publish = {"type": "publish", "topic": topic, "messages": [{"data": "x"}]}
        async with client.ws_connect("/v1/ws") as ws:
            # When
            await ws.send_json(publish | {"request_id": 1})
            await ws.send_json(publish | {"request_id": 2})
            await ws.send_json({"type": "ack", "ack_ids": ["x"], "request_id": 3})
            answers = [await receive(ws) for _ in range(3)]
        # Then
        assert [a["type"] for a in answers] == ["published", "error", "acked"]
        assert answers[1]["code"] == "rate_limited"
        assert answers[1]["retry_after_seconds"] > 0


async def create_topic_unlimited(client: Client) -> str:
    """A topic created without spending the rate: straight through the broker."""
    name = unique("topic")
    await client.app[BROKER].topics.create(Topic(name))
    return name


class TestWebSockets:
    async def test_a_socket_over_max_websockets_is_refused_with_503_until_one_closes(
        self, serve: Serve
    ) -> None:
        client = await serve(limits=limits(max_websockets=2))
        first = await client.ws_connect("/v1/ws")
        second = await client.ws_connect("/v1/ws")
        # When a third one comes
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/v1/ws")
        # Then it is told to come back, and may once a socket has closed
        assert refused.value.status == 503
        assert refused.value.headers is not None
        assert refused.value.headers["Retry-After"] == "1"
        await first.close()

        async def admitted() -> bool:
            try:
                await (await client.ws_connect("/v1/ws")).close()
            except aiohttp.WSServerHandshakeError:
                return False
            return True

        await eventually(admitted, "a free socket")
        await second.close()

    async def test_the_refusal_names_the_limit_in_the_json_shape(self, serve: Serve) -> None:
        client = await serve(limits=limits(max_websockets=1))
        async with client.ws_connect("/v1/ws"):
            response = await client.get("/v1/ws", headers=UPGRADE)
            error = (await response.json())["error"]
        assert response.status == 503
        assert (error["code"], error["limit"]) == ("too_many_websockets", 1)

    async def test_a_socket_holds_at_most_max_subscriptions_per_socket(self, serve: Serve) -> None:
        client = await serve(limits=limits(max_subscriptions_per_socket=1))
        topic = await create_topic(client)
        first, second = (
            await create_subscription(client, topic),
            await create_subscription(client, topic),
        )
        async with client.ws_connect("/v1/ws") as ws:
            await subscribe(ws, first)
            await ws.send_json({"type": "subscribe", "subscription": second, "request_id": 5})
            refused = await receive(ws)
            await ws.send_json({"type": "unsubscribe", "subscription": first})
            await receive(ws)
            moved = await subscribe(ws, second)
        assert (refused["code"], refused["limit"], refused["request_id"]) == (
            "too_many_subscriptions",
            1,
            5,
        )
        assert moved["subscription"] == second


class TestTimeout:
    async def test_a_request_not_answered_in_time_is_a_503_timeout(self, serve: Serve) -> None:
        # Given a client that sends half a body and waits
        client = await serve(server=ServerSettings(request_timeout_seconds=0.2))
        topic = await create_topic(client)
        answered = asyncio.Event()

        async def slow_body() -> AsyncIterator[bytes]:
            yield b'{"messages": ['
            await answered.wait()

        # When
        async with asyncio.timeout(DEADLINE_SECONDS):
            response = await client.post(
                f"/v1/topics/{topic}/messages",
                data=slow_body(),
                headers={"Content-Type": "application/json"},
            )
        answered.set()
        # Then
        error = (await response.json())["error"]
        assert response.status == 503
        assert (error["code"], error["timeout_seconds"]) == ("timeout", 0.2)
        assert response.headers["Retry-After"] == "1"

    async def test_a_long_poll_may_wait_its_wait_seconds_beyond_the_timeout(
        self, serve: Serve
    ) -> None:
        client = await serve(server=ServerSettings(request_timeout_seconds=0.1))
        sub = await create_subscription(client, await create_topic(client))
        loop = asyncio.get_running_loop()
        started = loop.time()
        response = await client.post(f"/v1/subscriptions/{sub}/pull", json={"wait_seconds": 0.4})
        assert response.status == 200
        assert loop.time() - started >= 0.4
