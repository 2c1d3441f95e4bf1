"""Tokens, settings and helpers shared by the auth and limits tests."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse

from pubsubgo.auth_config import AuthSettings, PermissionSettings, TokenSettings
from pubsubgo.config import Settings
from pubsubgo.core.access import Action, token_digest
from tests.conftest import unique
from tests.integration.conftest import Client

ADMIN = "admin-token-0123456789"
PUBLISHER = "publisher-token-0123456789"
CONSUMER = "consumer-token-0123456789"
BILLING = "billing-token-0123456789"
#: Stored as a digest in the settings: the plaintext never appears in them.
HASHED = "hashed-token-0123456789"


def grant(action: Action, pattern: str) -> PermissionSettings:
    return PermissionSettings(action=action, pattern=pattern)


def auth_settings(settings: Settings) -> Settings:
    """``settings`` with auth on and one token per kind of user."""
    tokens = [
        TokenSettings(name="admin", token=ADMIN, permissions=[grant(Action.ADMIN, "*")]),
        TokenSettings(
            name="publisher", token=PUBLISHER, permissions=[grant(Action.PUBLISH, "orders*")]
        ),
        TokenSettings(
            name="consumer", token=CONSUMER, permissions=[grant(Action.SUBSCRIBE, "orders*")]
        ),
        TokenSettings(
            name="billing", token=BILLING, permissions=[grant(Action.ADMIN, "billing-*")]
        ),
        TokenSettings(
            name="hashed",
            token=token_digest(HASHED),
            permissions=[grant(Action.SUBSCRIBE, "orders*")],
        ),
    ]
    return settings.model_copy(update={"auth": AuthSettings(enabled=True, tokens=tokens)})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def as_admin(client: Client, method: str, path: str, **kwargs: Any) -> None:
    response = await client.request(method, path, headers=bearer(ADMIN), **kwargs)
    assert response.status < 300, await response.text()


async def orders_world(client: Client) -> tuple[str, str]:
    """A topic and a subscription named ``orders-*``, created by the admin."""
    topic, sub = f"orders-{unique('t')}", f"orders-{unique('s')}"
    await as_admin(client, "POST", "/v1/topics", json={"name": topic})
    body = {"name": sub, "topic": topic, "start": "earliest"}
    await as_admin(client, "POST", "/v1/subscriptions", json=body)
    return topic, sub


async def error_of(response: ClientResponse, status: int) -> dict[str, Any]:
    assert response.status == status, await response.text()
    error: dict[str, Any] = (await response.json())["error"]
    return error
