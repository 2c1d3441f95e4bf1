"""Message ids from clients, through the real server on both backends: an id no message
has is a 404, a browse position no message can have a 400, never a 503 that blames
storage for the client's input."""

from __future__ import annotations

import pytest

from pubsubgo.ports.storage import Storage
from tests.integration.conftest import Client, create_subscription, create_topic, publish

HUGE = ["0-18446744073709551616-0", "0-0-18446744073709551616", "0-18446744073709551616"]


@pytest.fixture
def storage(on_every_backend: Storage) -> Storage:
    return on_every_backend


@pytest.mark.parametrize("id_", [*HUGE, "0-1-2", "0-5"])
async def test_fetching_an_id_of_no_message_is_a_404(client: Client, id_: str) -> None:
    topic = await create_topic(client)
    await publish(client, topic, "stored")

    response = await client.get(f"/v1/topics/{topic}/messages/{id_}")

    assert response.status == 404
    assert (await response.json())["error"]["code"] == "message_not_found"


@pytest.mark.parametrize("after", HUGE[:2])
async def test_browsing_after_a_position_past_64_bits_is_a_400(client: Client, after: str) -> None:
    topic = await create_topic(client)
    await publish(client, topic, "stored")

    response = await client.get(f"/v1/topics/{topic}/messages", params={"after": after})

    assert response.status == 400
    error = (await response.json())["error"]
    assert (error["code"], error["field"]) == ("invalid_argument", "after")


async def test_browse_pages_follow_the_ids_the_backend_issued(client: Client) -> None:
    topic = await create_topic(client)
    ids = await publish(client, topic, "a", "b", "c")

    response = await client.get(f"/v1/topics/{topic}/messages", params={"after": ids[0]})

    assert [m["id"] for m in (await response.json())["messages"]] == ids[1:]


async def test_a_forged_dead_letter_is_not_redriven_and_fails_nothing(client: Client) -> None:
    # Given a subscription whose dead-letter topic holds a message that claims a huge id
    dead = await create_topic(client)
    topic = await create_topic(client)
    sub = await create_subscription(client, topic, max_delivery_attempts=1, dead_letter_topic=dead)
    forged = {"x-original-id": HUGE[0], "x-original-subscription": sub, "x-original-topic": topic}
    await publish(client, dead, "forged", attributes=forged)
    # When it is redriven, Then nothing moves and nothing fails
    response = await client.post(f"/v1/subscriptions/{sub}/redrive")
    assert response.status == 200
    assert await response.json() == {"moved": 0}
