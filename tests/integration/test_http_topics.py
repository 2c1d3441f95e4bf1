"""REST: topics, stored messages, browse and stats."""

from __future__ import annotations

from pubsubgo.runtime.clock import ManualClock
from tests.conftest import unique
from tests.integration.conftest import Client, create_subscription, create_topic, publish


class TestCreateTopic:
    async def test_a_created_topic_is_answered_with_201_and_its_settings(
        self, client: Client
    ) -> None:
        # When
        response = await client.post("/v1/topics", json={"name": "orders-1", "partitions": 4})
        # Then
        assert response.status == 201
        body = await response.json()
        assert body["name"] == "orders-1"
        assert body["partitions"] == 4
        assert body["retention_seconds"] == 7 * 24 * 3600

    async def test_creating_a_topic_twice_is_a_409_conflict(self, client: Client) -> None:
        name = await create_topic(client)
        response = await client.post("/v1/topics", json={"name": name})
        assert response.status == 409
        assert (await response.json())["error"]["code"] == "topic_exists"

    async def test_an_invalid_name_is_a_400_naming_the_field(self, client: Client) -> None:
        response = await client.post("/v1/topics", json={"name": "-bad name"})
        assert response.status == 400
        error = (await response.json())["error"]
        assert error["code"] == "invalid_request"
        assert error["field"] == "name"

    async def test_out_of_range_partitions_are_a_400(self, client: Client) -> None:
        response = await client.post("/v1/topics", json={"name": unique("t"), "partitions": 0})
        assert response.status == 400


class TestReadTopics:
    async def test_listed_topics_include_the_created_one(self, client: Client) -> None:
        name = await create_topic(client)
        response = await client.get("/v1/topics")
        assert response.status == 200
        assert name in [t["name"] for t in (await response.json())["topics"]]

    async def test_describe_shows_stats_and_a_missing_topic_is_a_404(self, client: Client) -> None:
        # Given
        name = await create_topic(client, partitions=2)
        await publish(client, name, "a", "b", "c")
        # When
        described = await (await client.get(f"/v1/topics/{name}")).json()
        missing = await client.get("/v1/topics/no-such-topic")
        # Then
        assert described["stats"]["messages"] == 3
        assert sum(described["stats"]["partition_depths"]) == 3
        assert missing.status == 404
        assert (await missing.json())["error"] == {
            "code": "topic_not_found",
            "message": "topic 'no-such-topic' does not exist",
            "topic": "no-such-topic",
        }

    async def test_stats_report_counts_and_a_publish_rate(self, client: Client) -> None:
        name = await create_topic(client)
        await publish(client, name, "one", "two")
        stats = await (await client.get(f"/v1/topics/{name}/stats")).json()
        assert stats["messages"] == 2
        assert stats["publish_count"] == 2
        assert stats["publish_rate_per_second"] > 0
        assert stats["last_publish_at"] is not None


class TestDeleteTopic:
    async def test_a_topic_with_subscriptions_needs_force(self, client: Client) -> None:
        # Given
        name = await create_topic(client)
        await create_subscription(client, name)
        # When
        refused = await client.delete(f"/v1/topics/{name}")
        forced = await client.delete(f"/v1/topics/{name}?force=true")
        # Then
        assert refused.status == 409
        assert (await refused.json())["error"]["code"] == "topic_in_use"
        assert forced.status == 204
        assert (await client.get(f"/v1/topics/{name}")).status == 404

    async def test_a_non_boolean_force_is_a_400(self, client: Client) -> None:
        name = await create_topic(client)
        response = await client.delete(f"/v1/topics/{name}?force=maybe")
        assert response.status == 400


class TestStoredMessages:
    async def test_one_message_is_fetched_by_id_with_its_fields(self, client: Client) -> None:
        # Given
        name = await create_topic(client)
        [id_] = await publish(client, name, "hello", key="k", attributes={"a": "1"})
        # When
        response = await client.get(f"/v1/topics/{name}/messages/{id_}")
        # Then
        assert response.status == 200
        message = await response.json()
        assert message["data"] == "hello"
        assert message["encoding"] == "utf-8"
        assert message["key"] == "k"
        assert message["attributes"] == {"a": "1"}

    async def test_an_expired_message_is_410_gone(self, client: Client, clock: ManualClock) -> None:
        # Given a message with a TTL of 5 s
        name = await create_topic(client)
        [id_] = await publish(client, name, "short-lived", ttl_seconds=5)
        # When its TTL has run out
        clock.advance(6)
        response = await client.get(f"/v1/topics/{name}/messages/{id_}")
        # Then
        assert response.status == 410
        assert (await response.json())["error"]["code"] == "message_expired"

    async def test_an_unknown_message_id_is_a_404(self, client: Client) -> None:
        name = await create_topic(client)
        response = await client.get(f"/v1/topics/{name}/messages/0-999")
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "message_not_found"

    async def test_browse_pages_through_messages_without_consuming(self, client: Client) -> None:
        # Given
        name = await create_topic(client)
        sub = await create_subscription(client, name)
        await publish(client, name, "m1", "m2", "m3")
        # When
        first = await (await client.get(f"/v1/topics/{name}/messages?limit=2")).json()
        after = first["next_after"]
        second = await (await client.get(f"/v1/topics/{name}/messages?after={after}")).json()
        # Then
        assert [m["data"] for m in first["messages"]] == ["m1", "m2"]
        assert [m["data"] for m in second["messages"]] == ["m3"]
        assert second["next_after"] is None
        described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
        assert described["backlog"] == 3

    async def test_browse_refuses_a_limit_out_of_range(self, client: Client) -> None:
        name = await create_topic(client)
        response = await client.get(f"/v1/topics/{name}/messages?limit=0")
        assert response.status == 400
        assert (await response.json())["error"]["field"] == "limit"
