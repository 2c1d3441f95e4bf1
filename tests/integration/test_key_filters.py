"""Direct routing by key over HTTP on both backends: a subscription filtering on the
routing key receives only the messages with matching keys, the others are settled."""

from __future__ import annotations

import pytest

from pubsubgo.ports.storage import Storage
from tests.integration.conftest import Client, create_subscription, create_topic, publish, pull


@pytest.fixture
def storage(on_every_backend: Storage) -> Storage:
    return on_every_backend


@pytest.mark.parametrize(
    ("filter_", "expected"),
    [
        ('key = "eu"', ["to eu"]),
        ('hasPrefix(key, "eu-")', ["to eu-west", "to eu-north"]),
        ('key != "eu"', ["to eu-west", "to us", "to eu-north", "keyless"]),
        ('hasPrefix(key, "eu") AND attributes.kind = "order"', ["to eu", "to eu-north"]),
    ],
)
async def test_a_key_filter_delivers_only_the_matching_keys(
    client: Client, filter_: str, expected: list[str]
) -> None:
    # Given a subscription filtering on the routing key, over several partitions
    topic = await create_topic(client, partitions=3)
    sub = await create_subscription(client, topic, filter=filter_)
    # When messages with various keys are published
    for key in ["eu", "eu-west", "us", "eu-north"]:
        kind = "note" if key == "eu-west" else "order"
        await publish(client, topic, f"to {key}", key=key, attributes={"kind": kind})
    await publish(client, topic, "keyless")
    # Then the subscription receives exactly the matching ones, and nothing is left over
    received = await pull(client, sub, max_messages=10)
    assert sorted(m["data"] for m in received) == sorted(expected)
    described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
    assert described["backlog"] == len(expected)


async def test_a_malformed_key_filter_is_a_400_with_its_position(client: Client) -> None:
    topic = await create_topic(client)
    body = {"name": "bad-key-filter", "topic": topic, "filter": "key = eu"}
    response = await client.post("/v1/subscriptions", json=body)
    assert response.status == 400
    error = (await response.json())["error"]
    assert (error["code"], error["position"]) == ("invalid_filter", 6)
