"""REST: redriving chosen dead letters and purging them (the console's dead-letter page)."""

from __future__ import annotations

from typing import Any

import pytest

from pubsubgo.config import Settings
from tests.integration.conftest import (
    Client,
    create_subscription,
    create_topic,
    publish,
    pull,
)
from tests.integration.security import (
    ADMIN,
    CONSUMER,
    auth_settings,
    bearer,
    error_of,
    orders_world,
)

NO_BACKOFF = {"minimum_backoff_seconds": 0, "maximum_backoff_seconds": 0}


async def dead_lettered(client: Client, *texts: str) -> tuple[str, list[str]]:
    """A subscription that dead-lettered ``texts``: (its name, the letters' ids)."""
    topic = await create_topic(client)
    dead = await create_topic(client)
    sub = await create_subscription(
        client, topic, max_delivery_attempts=1, dead_letter_topic=dead, retry_policy=NO_BACKOFF
    )
    await publish(client, topic, *texts)
    ack_ids = [m["ack_id"] for m in await pull(client, sub)]
    nack = {"ack_ids": ack_ids, "delay_seconds": 0}
    assert (await client.post(f"/v1/subscriptions/{sub}/nack", json=nack)).status == 200
    letters = await (await client.get(f"/v1/topics/{dead}/messages")).json()
    return sub, [m["id"] for m in letters["messages"]]


class TestRedriveChosen:
    async def test_redrive_with_ids_moves_only_those_back(self, client: Client) -> None:
        # Given
        sub, [first, _] = await dead_lettered(client, "one", "two")
        # When
        response = await client.post(f"/v1/subscriptions/{sub}/redrive", json={"ids": [first]})
        # Then
        assert await response.json() == {"moved": 1}
        assert [m["data"] for m in await pull(client, sub)] == ["one"]

    @pytest.mark.parametrize(
        "body",
        [{"ids": []}, {"ids": ["not-an-id"]}, {"ids": "0-1"}, {"only": ["0-1"]}],
        ids=["empty", "malformed id", "not a list", "unknown field"],
    )
    async def test_a_bad_selection_is_a_400(self, client: Client, body: dict[str, Any]) -> None:
        sub, _ = await dead_lettered(client, "x")
        response = await client.post(f"/v1/subscriptions/{sub}/redrive", json=body)
        assert (await error_of(response, 400))["code"] == "invalid_request"


class TestPurge:
    async def test_purge_without_a_body_deletes_every_dead_letter(self, client: Client) -> None:
        # Given
        sub, _ = await dead_lettered(client, "one", "two")
        # When
        purged = await client.post(f"/v1/subscriptions/{sub}/dead-letters/purge")
        redriven = await client.post(f"/v1/subscriptions/{sub}/redrive")
        # Then
        assert await purged.json() == {"purged": 2}
        assert await redriven.json() == {"moved": 0}

    async def test_purge_with_ids_deletes_only_those(self, client: Client) -> None:
        sub, [_, second] = await dead_lettered(client, "one", "two")
        path = f"/v1/subscriptions/{sub}/dead-letters/purge"

        purged = await client.post(path, json={"ids": [second]})

        assert await purged.json() == {"purged": 1}
        assert await (await client.post(f"/v1/subscriptions/{sub}/redrive")).json() == {"moved": 1}
        assert [m["data"] for m in await pull(client, sub)] == ["one"]

    async def test_an_unknown_subscription_is_a_404(self, client: Client) -> None:
        response = await client.post("/v1/subscriptions/nobody/dead-letters/purge")
        assert (await error_of(response, 404))["code"] == "subscription_not_found"


class TestPermissions:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return auth_settings(settings)

    async def test_purge_and_redrive_need_admin_on_the_subscription(self, client: Client) -> None:
        # Given a subscription the consumer token may consume but not administer
        _, sub = await orders_world(client)
        for path in ("dead-letters/purge", "redrive"):
            # When the consumer asks
            url = f"/v1/subscriptions/{sub}/{path}"
            response = await client.post(url, headers=bearer(CONSUMER))
            # Then
            error = await error_of(response, 403)
            assert (error["code"], error["action"]) == ("permission_denied", "admin")
        url = f"/v1/subscriptions/{sub}/dead-letters/purge"
        admin = await client.post(url, headers=bearer(ADMIN))
        assert await admin.json() == {"purged": 0}
