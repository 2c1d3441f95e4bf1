"""Bearer tokens over the WebSocket: the upgrade needs a token (header, or ``access_token``
for browsers), and each subscribe, publish or ack is checked against its permissions."""

from __future__ import annotations

import logging

import aiohttp
import pytest

from pubsubgo.config import Settings
from tests.integration.conftest import Client
from tests.integration.security import (
    ADMIN,
    CONSUMER,
    PUBLISHER,
    auth_settings,
    bearer,
    orders_world,
)
from tests.integration.test_websocket import receive, subscribe


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return auth_settings(settings)


class TestUpgrade:
    async def test_an_upgrade_without_a_token_is_refused_with_401(self, client: Client) -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/v1/ws")
        assert refused.value.status == 401
        assert refused.value.headers is not None
        assert refused.value.headers["WWW-Authenticate"] == 'Bearer realm="pubsubgo"'

    async def test_an_upgrade_with_an_unknown_token_is_refused_with_401(
        self, client: Client
    ) -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/v1/ws", headers=bearer("no-such-token-anywhere"))
        assert refused.value.status == 401

    async def test_a_browser_passes_the_token_as_access_token_and_the_log_never_shows_it(
        self, client: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Given
        _, sub = await orders_world(client)
        caplog.set_level(logging.INFO, logger="pubsubgo.access")
        # When
        async with client.ws_connect(f"/v1/ws?access_token={CONSUMER}") as ws:
            subscribed = await subscribe(ws, sub)
        await client.get("/healthz")  # the socket's access line is written when it ends
        # Then
        assert subscribed["subscription"] == sub
        assert CONSUMER not in caplog.text
        assert "access_token=REDACTED" in caplog.text


class TestFrames:
    async def test_forbidden_subscribe_and_publish_frames_are_error_frames_on_an_open_socket(
        self, client: Client
    ) -> None:
        # Given a socket of a publisher of orders-*
        topic, sub = await orders_world(client)
        async with client.ws_connect("/v1/ws", headers=bearer(PUBLISHER)) as ws:
            # When
            await ws.send_json({"type": "subscribe", "subscription": sub, "request_id": 1})
            subscribing = await receive(ws)
            await ws.send_json(
                {
                    "type": "publish",
                    "topic": "payroll",
                    "messages": [{"data": "x"}],
                    "request_id": 2,
                }
            )
            publishing = await receive(ws)
            await ws.send_json(
                {"type": "publish", "topic": topic, "messages": [{"data": "x"}], "request_id": 3}
            )
            published = await receive(ws)
        # Then
        assert subscribing == {
            "type": "error",
            "code": "permission_denied",
            "message": f"the token has no 'subscribe' permission on {sub!r}",
            "action": "subscribe",
            "name": sub,
            "request_id": 1,
        }
        assert (publishing["code"], publishing["request_id"]) == ("permission_denied", 2)
        assert (published["type"], published["request_id"]) == ("published", 3)

    async def test_an_ack_naming_a_subscription_the_token_may_not_consume_is_refused(
        self, client: Client
    ) -> None:
        _, sub = await orders_world(client)
        async with client.ws_connect("/v1/ws", headers=bearer(PUBLISHER)) as ws:
            frame = {"type": "ack", "ack_ids": ["0.x"], "subscription": sub, "request_id": 9}
            await ws.send_json(frame)
            refused = await receive(ws)
        assert (refused["code"], refused["name"]) == ("permission_denied", sub)

    async def test_an_admin_socket_may_do_everything(self, client: Client) -> None:
        topic, sub = await orders_world(client)
        async with client.ws_connect("/v1/ws", headers=bearer(ADMIN)) as ws:
            await subscribe(ws, sub)
            await ws.send_json({"type": "publish", "topic": topic, "messages": [{"data": "m"}]})
            frames = [await receive(ws), await receive(ws)]
        assert {f["type"] for f in frames} == {"published", "message"}
