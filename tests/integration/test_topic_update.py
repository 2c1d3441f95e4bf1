"""PATCH /v1/topics/{topic} over HTTP on both backends: settings change and stay changed,
partitions never, and bad input is a 400 in the error shape."""

from __future__ import annotations

from typing import Any

import pytest

from pubsubgo.config import Settings
from pubsubgo.ports.storage import Storage
from tests.integration.conftest import Client, create_topic, publish
from tests.integration.security import CONSUMER, auth_settings, bearer


@pytest.fixture
def storage(on_every_backend: Storage) -> Storage:
    return on_every_backend


async def _patch(client: Client, topic: str, body: Any) -> tuple[int, dict[str, Any]]:
    response = await client.patch(f"/v1/topics/{topic}", json=body)
    return response.status, await response.json()


async def test_patched_settings_are_answered_and_described(client: Client) -> None:
    # Given a topic
    topic = await create_topic(client, partitions=2)
    # When some of its settings change
    changes = {
        "retention_seconds": 3600,
        "max_messages": 5,
        "overflow": "drop_oldest",
        "dedup_window_seconds": 10,
        "compression": "lz4",
        "compression_min_bytes": 0,
    }
    status, answer = await _patch(client, topic, changes)
    # Then the answer and the description show them, and the rest is as it was
    assert status == 200
    described = await (await client.get(f"/v1/topics/{topic}")).json()
    for view in (answer, described):
        assert {k: view[k] for k in changes} == changes
        assert (view["name"], view["partitions"]) == (topic, 2)


async def test_a_lowered_bound_with_drop_oldest_keeps_the_newest(client: Client) -> None:
    topic = await create_topic(client)
    await publish(client, topic, "a", "b", "c")

    await _patch(client, topic, {"max_messages": 2, "overflow": "drop_oldest"})
    await publish(client, topic, "d")

    stats = await (await client.get(f"/v1/topics/{topic}/stats")).json()
    assert stats["messages"] == 2


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"partitions": 3}, "partitions"),
        ({"retention_seconds": 0}, "retention_seconds"),
        ({"overflow": "sideways"}, "overflow"),
        ({"name": "renamed"}, "name"),
        ({"compression": None, "max_messages": -1}, "max_messages"),
    ],
)
async def test_a_bad_change_is_a_400_naming_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    topic = await create_topic(client, partitions=2)

    status, answer = await _patch(client, topic, body)

    assert status == 400
    assert answer["error"]["field"] == field
    described = await (await client.get(f"/v1/topics/{topic}")).json()
    assert described["retention_seconds"] != 0


async def test_an_empty_patch_changes_nothing(client: Client) -> None:
    topic = await create_topic(client, retention_seconds=99)
    status, answer = await _patch(client, topic, {})
    assert (status, answer["retention_seconds"]) == (200, 99)


async def test_patching_a_missing_topic_is_a_404(client: Client) -> None:
    status, answer = await _patch(client, "nowhere", {"retention_seconds": 5})
    assert (status, answer["error"]["code"]) == (404, "topic_not_found")


class TestPermission:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return auth_settings(settings)

    async def test_changing_a_topic_needs_admin_on_it(self, client: Client) -> None:
        response = await client.patch(
            "/v1/topics/orders", json={"retention_seconds": 5}, headers=bearer(CONSUMER)
        )
        assert response.status == 403
