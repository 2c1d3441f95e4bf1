"""Browse and fetch agree over HTTP on both backends: an expired message is a 410 to fetch
and absent from browse, with ``next_after`` still leading past it."""

from __future__ import annotations

import pytest

from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import ManualClock
from tests.integration.conftest import Client, create_topic, publish


@pytest.fixture
def storage(on_every_backend: Storage) -> Storage:
    return on_every_backend


async def test_an_expired_message_is_gone_from_browse_as_from_fetch(
    client: Client, clock: ManualClock
) -> None:
    # Given a topic with an expired message behind a live one
    topic = await create_topic(client)
    [expired] = await publish(client, topic, "secret", ttl_seconds=5)
    [live] = await publish(client, topic, "kept")
    clock.advance(6)
    # When it is fetched and browsed
    fetched = await client.get(f"/v1/topics/{topic}/messages/{expired}")
    first = await (await client.get(f"/v1/topics/{topic}/messages", params={"limit": 1})).json()
    after = first["next_after"]
    rest = await (
        await client.get(f"/v1/topics/{topic}/messages", params={"after": after, "limit": 1})
    ).json()
    # Then fetch says 410 and browse never shows its data, yet pages on to the live one
    assert fetched.status == 410
    assert first["messages"] == []
    assert [m["id"] for m in rest["messages"]] == [live]
