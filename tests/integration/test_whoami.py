"""``GET /v1/whoami``: the caller's token and what it may do, so that a client (the console)
offers only that."""

from __future__ import annotations

import pytest

from pubsubgo.config import Settings
from tests.integration.conftest import Client
from tests.integration.security import BILLING, auth_settings, bearer, error_of


async def test_with_auth_off_everyone_is_anonymous_and_allowed_everything(
    client: Client,
) -> None:
    response = await client.get("/v1/whoami")
    assert response.status == 200
    assert await response.json() == {
        "name": "anonymous",
        "authentication": False,
        "permissions": [{"action": "admin", "pattern": "*"}],
    }


class TestWithAuth:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return auth_settings(settings)

    async def test_a_token_learns_its_name_and_permissions(self, client: Client) -> None:
        response = await client.get("/v1/whoami", headers=bearer(BILLING))
        assert response.status == 200
        assert await response.json() == {
            "name": "billing",
            "authentication": True,
            "permissions": [{"action": "admin", "pattern": "billing-*"}],
        }

    async def test_without_a_token_it_is_a_401(self, client: Client) -> None:
        error = await error_of(await client.get("/v1/whoami"), 401)
        assert error["code"] == "unauthenticated"
