"""The inspection routes over HTTP on both backends: a topic's partitions, the health of a
topic and of a subscription, each within what the caller's token may see."""

from __future__ import annotations

from typing import Any

import pytest

from pubsubgo.config import Settings
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import ManualClock
from tests.integration.conftest import Client, create_subscription, create_topic, publish, pull
from tests.integration.security import ADMIN, CONSUMER, auth_settings, bearer


@pytest.fixture
def storage(on_every_backend: Storage) -> Storage:
    return on_every_backend


async def _get(client: Client, path: str, token: str | None = None) -> tuple[int, Any]:
    response = await client.get(path, headers=bearer(token) if token else {})
    return response.status, await response.json()


async def test_partitions_show_depth_ends_and_owners(client: Client) -> None:
    # Given a topic of two partitions with an ordered subscription joined by one member
    topic = await create_topic(client, partitions=2)
    sub = await create_subscription(client, topic, ordered=True)
    joined = await (await client.post(f"/v1/subscriptions/{sub}/members")).json()
    ids = await publish(client, topic, "a", "b", "c", key="same")
    # When the partitions are read
    status, answer = await _get(client, f"/v1/topics/{topic}/partitions")
    # Then the busy one holds the three messages, and the member owns both partitions
    assert status == 200
    assert answer["topic"] == topic
    busy = next(p for p in answer["partitions"] if p["depth"])
    assert (busy["depth"], busy["first_id"], busy["last_id"]) == (3, ids[0], ids[2])
    assert all(p["owners"] == {sub: [joined["member_id"]]} for p in answer["partitions"])


async def test_topic_and_subscription_health(client: Client, clock: ManualClock) -> None:
    topic = await create_topic(client)
    sub = await create_subscription(client, topic)
    await publish(client, topic, "a", "b", "c")
    await pull(client, sub, max_messages=1)
    clock.advance(3)

    status, topic_health = await _get(client, f"/v1/topics/{topic}/health")
    assert status == 200
    assert (topic_health["messages"], topic_health["partitions"]) == (3, 1)
    [listed] = topic_health["subscriptions"]
    status, health = await _get(client, f"/v1/subscriptions/{sub}/health")
    assert status == 200
    for view in (listed, health):
        assert (view["subscription"], view["backlog"], view["in_flight"]) == (sub, 3, 1)
        assert (view["dead_letters"], view["consumers"]) == (0, 0)
        assert view["oldest_unacked_age_seconds"] >= 3


@pytest.mark.parametrize(
    "path",
    ["/v1/topics/nowhere/partitions", "/v1/topics/nowhere/health", "/v1/subscriptions/x/health"],
)
async def test_a_missing_topic_or_subscription_is_a_404(client: Client, path: str) -> None:
    status, answer = await _get(client, path)
    assert status == 404
    assert answer["error"]["code"] in {"topic_not_found", "subscription_not_found"}


class TestVisibility:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return auth_settings(settings)

    async def test_a_token_sees_only_the_subscriptions_it_holds_a_permission_on(
        self, client: Client
    ) -> None:
        # Given the orders topic with one subscription the consumer may see and one it may not
        for path, body in [
            ("/v1/topics", {"name": "orders"}),
            ("/v1/subscriptions", {"name": "orders-audit", "topic": "orders"}),
            ("/v1/subscriptions", {"name": "hidden-sub", "topic": "orders"}),
        ]:
            assert (await client.post(path, json=body, headers=bearer(ADMIN))).status == 201
        # When the consumer reads the topic's health and partitions
        _, health = await _get(client, "/v1/topics/orders/health", CONSUMER)
        _, partitions = await _get(client, "/v1/topics/orders/partitions", CONSUMER)
        # Then only its subscriptions show
        assert [h["subscription"] for h in health["subscriptions"]] == ["orders-audit"]
        assert set(partitions["partitions"][0]["owners"]) == {"orders-audit"}
        status, _ = await _get(client, "/v1/subscriptions/hidden-sub/health", CONSUMER)
        assert status == 403
