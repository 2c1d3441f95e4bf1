"""WebSocket upgrades follow ``server.allowed_origins``: a browser page of another site may
not open one (cross-site WebSocket hijacking), with or without a token."""

from __future__ import annotations

import aiohttp
import pytest

from pubsubgo.config import Settings
from tests.integration.conftest import Client
from tests.integration.security import ADMIN, auth_settings, bearer


async def _refusal(client: Client, headers: dict[str, str]) -> aiohttp.WSServerHandshakeError:
    with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
        await client.ws_connect("/v1/ws", headers=headers)
    return refused.value


class TestOrigins:
    @pytest.mark.parametrize("origin", ["http://allowed.example", None])
    async def test_an_allowed_origin_or_none_opens_a_socket(
        self, client: Client, origin: str | None
    ) -> None:
        headers = {"Origin": origin} if origin else {}
        async with client.ws_connect("/v1/ws", headers=headers) as ws:
            assert not ws.closed

    async def test_a_page_served_by_the_broker_itself_opens_a_socket(self, client: Client) -> None:
        own = f"http://{client.server.host}:{client.server.port}"
        async with client.ws_connect("/v1/ws", headers={"Origin": own}) as ws:
            assert not ws.closed

    @pytest.mark.parametrize(
        "origin", ["http://evil.example", "null", "http://allowed.example.evil.example"]
    )
    async def test_another_origin_is_refused_with_403(self, client: Client, origin: str) -> None:
        refused = await _refusal(client, {"Origin": origin})
        assert refused.status == 403
        assert refused.headers is not None
        assert "Access-Control-Allow-Origin" not in refused.headers


class TestEveryOriginAllowed:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        server = settings.server.model_copy(update={"allowed_origins": ["*"]})
        return settings.model_copy(update={"server": server})

    async def test_every_origin_may_connect_when_star_is_allowed(self, client: Client) -> None:
        async with client.ws_connect("/v1/ws", headers={"Origin": "http://any.example"}) as ws:
            assert not ws.closed


class TestOriginsWithAuth:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return auth_settings(settings)

    async def test_a_valid_token_from_another_origin_is_still_refused(self, client: Client) -> None:
        headers = {"Origin": "http://evil.example", **bearer(ADMIN)}
        refused = await _refusal(client, headers)
        assert refused.status == 403

    async def test_the_token_in_the_query_from_another_origin_is_refused(
        self, client: Client
    ) -> None:
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect(
                "/v1/ws", params={"access_token": ADMIN}, headers={"Origin": "http://evil.example"}
            )
        assert refused.value.status == 403
