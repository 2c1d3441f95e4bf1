"""A browser's WebSocket token: offered as the ``pubsubgo.bearer.<base64url>`` subprotocol
beside ``pubsubgo``, which the broker selects, so that the token is in no URL or log."""

from __future__ import annotations

import base64
import logging

import aiohttp
import pytest

from pubsubgo.config import Settings
from tests.integration.conftest import Client
from tests.integration.security import ADMIN, CONSUMER, auth_settings, orders_world
from tests.integration.test_websocket import subscribe


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return auth_settings(settings)


def offered(token: str) -> tuple[str, str]:
    """What the console offers: the selectable protocol and the token's."""
    encoded = base64.urlsafe_b64encode(token.encode()).decode().rstrip("=")
    return ("pubsubgo", f"pubsubgo.bearer.{encoded}")


class TestSubprotocolToken:
    async def test_a_token_offered_as_a_subprotocol_opens_the_socket_and_is_never_echoed(
        self, client: Client, caplog: pytest.LogCaptureFixture
    ) -> None:
        # Given
        _, sub = await orders_world(client)
        caplog.set_level(logging.INFO, logger="pubsubgo.access")
        # When
        async with client.ws_connect("/v1/ws", protocols=offered(CONSUMER)) as ws:
            subscribed = await subscribe(ws, sub)
            selected = ws.protocol
        await client.get("/healthz")  # the socket's access line is written when it ends
        # Then
        assert subscribed["subscription"] == sub
        assert selected == "pubsubgo"
        assert CONSUMER not in caplog.text
        assert offered(CONSUMER)[1] not in caplog.text

    async def test_the_token_protocol_carries_the_tokens_permissions(self, client: Client) -> None:
        # Given a topic the consumer token may not publish to
        topic, _ = await orders_world(client)
        async with client.ws_connect("/v1/ws", protocols=offered(CONSUMER)) as ws:
            # When
            frame = {"type": "publish", "topic": topic, "messages": [{"data": "x"}]}
            await ws.send_json({**frame, "request_id": 1})
            refused = await ws.receive_json(timeout=5)
        # Then
        assert (refused["code"], refused["request_id"]) == ("permission_denied", 1)

    @pytest.mark.parametrize(
        "protocols",
        [
            offered("not-a-token-of-this-broker"),
            ("pubsubgo", "pubsubgo.bearer.%%%"),
            ("pubsubgo", "pubsubgo.bearer."),
            ("pubsubgo",),
        ],
        ids=["unknown token", "not base64url", "empty", "no token protocol"],
    )
    async def test_an_upgrade_without_a_valid_token_protocol_is_a_401(
        self, client: Client, protocols: tuple[str, ...]
    ) -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/v1/ws", protocols=protocols)
        assert refused.value.status == 401

    async def test_a_header_token_still_works_and_wins_over_the_protocol(
        self, client: Client
    ) -> None:
        _, sub = await orders_world(client)
        headers = {"Authorization": f"Bearer {ADMIN}"}
        protocols = offered("not-a-token-of-this-broker")
        async with client.ws_connect("/v1/ws", headers=headers, protocols=protocols) as ws:
            assert (await subscribe(ws, sub))["subscription"] == sub
