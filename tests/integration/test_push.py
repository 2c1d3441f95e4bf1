"""Push subscriptions: the broker posts each message to a real local HTTP receiver."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from tests.integration.conftest import (
    Client,
    create_subscription,
    create_topic,
    eventually,
    publish,
)


class Receiver:
    """An HTTP endpoint that records what it is posted and answers with scripted statuses."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.received: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/hook", self.hook)
        return app

    async def hook(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        self.headers.append(dict(request.headers))
        status = self.statuses.pop(0) if self.statuses else 200
        return web.Response(status=status)


async def push_subscription(client: Client, topic: str, endpoint: str) -> str:
    return await create_subscription(
        client,
        topic,
        type="push",
        push_endpoint=endpoint,
        # No backoff, so that a refused push is retried at once (the test clock stands still).
        retry_policy={"minimum_backoff_seconds": 0, "maximum_backoff_seconds": 0},
    )


class TestPush:
    async def test_each_message_is_posted_and_acked_on_2xx(
        self, client: Client, aiohttp_server: AiohttpServer
    ) -> None:
        # Given a receiver and a push subscription to it
        receiver = Receiver([])
        server = await aiohttp_server(receiver.app())
        topic = await create_topic(client)
        sub = await push_subscription(client, topic, str(server.make_url("/hook")))
        # When
        await publish(client, topic, "one", "two", attributes={"k": "v"})

        # Then both arrive, with the message fields, and nothing is left to deliver
        async def delivered() -> bool:
            described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
            settled = described["backlog"] == 0 and described["in_flight"] == 0
            return len(receiver.received) == 2 and settled

        await eventually(delivered, "both messages pushed and acked")
        assert sorted(m["data"] for m in receiver.received) == ["one", "two"]
        assert all(m["attributes"] == {"k": "v"} for m in receiver.received)
        assert all(m["subscription"] == sub for m in receiver.received)
        assert receiver.headers[0]["X-PubSub-Subscription"] == sub

    async def test_a_refused_push_is_retried_with_the_next_attempt(
        self, client: Client, aiohttp_server: AiohttpServer
    ) -> None:
        # Given a receiver that fails the first post
        receiver = Receiver([500])
        server = await aiohttp_server(receiver.app())
        topic = await create_topic(client)
        sub = await push_subscription(client, topic, str(server.make_url("/hook")))
        # When
        await publish(client, topic, "flaky")

        # Then it comes again, as attempt 2, and is then acked
        async def retried() -> bool:
            described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
            return len(receiver.received) == 2 and described["backlog"] == 0

        await eventually(retried, "the message pushed twice and acked")
        attempts = [m["delivery_attempt"] for m in receiver.received]
        assert attempts == [1, 2]
        assert receiver.received[0]["id"] == receiver.received[1]["id"]

    async def test_an_unreachable_endpoint_is_retried_and_the_message_kept(
        self, client: Client, aiohttp_server: AiohttpServer, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Given an endpoint whose server has gone away
        caplog.set_level(logging.WARNING, logger="pubsubgo.adapters.push")
        receiver = Receiver([])
        server = await aiohttp_server(receiver.app())
        endpoint = str(server.make_url("/hook"))
        await server.close()
        topic = await create_topic(client)
        sub = await push_subscription(client, topic, endpoint)
        # When
        await publish(client, topic, "kept")

        # Then the push fails, is tried again, and the message stays pending
        async def tried_twice() -> bool:
            return sum("push of" in r.getMessage() for r in caplog.records) >= 2

        await eventually(tried_twice, "two failed push attempts")
        described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
        assert described["backlog"] == 1
