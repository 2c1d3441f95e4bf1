"""REST: subscriptions, pulling (long poll), settling, seek, redrive and group members."""

from __future__ import annotations

import asyncio

from pubsubgo.runtime.clock import ManualClock
from tests.conftest import unique
from tests.integration.conftest import (
    Client,
    create_subscription,
    create_topic,
    publish,
    pull,
)


class TestCreateSubscription:
    async def test_a_subscription_to_a_missing_topic_is_a_404(self, client: Client) -> None:
        body = {"name": unique("sub"), "topic": "missing-topic"}
        response = await client.post("/v1/subscriptions", json=body)
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "topic_not_found"

    async def test_a_taken_name_is_a_409(self, client: Client) -> None:
        topic = await create_topic(client)
        name = await create_subscription(client, topic)
        response = await client.post("/v1/subscriptions", json={"name": name, "topic": topic})
        assert response.status == 409

    async def test_an_unparsable_filter_is_a_400_with_its_position(self, client: Client) -> None:
        topic = await create_topic(client)
        body = {"name": unique("sub"), "topic": topic, "filter": 'attributes.x = "unclosed'}
        response = await client.post("/v1/subscriptions", json=body)
        assert response.status == 400
        error = (await response.json())["error"]
        assert error["code"] == "invalid_filter"
        assert "position" in error

    async def test_a_push_subscription_needs_an_http_endpoint(self, client: Client) -> None:
        topic = await create_topic(client)
        missing = {"name": unique("sub"), "topic": topic, "type": "push"}
        not_http = missing | {"push_endpoint": "ftp://example.com/x"}
        assert (await client.post("/v1/subscriptions", json=missing)).status == 400
        assert (await client.post("/v1/subscriptions", json=not_http)).status == 400

    async def test_list_filters_by_topic_and_describe_shows_the_backlog(
        self, client: Client
    ) -> None:
        # Given
        topic = await create_topic(client)
        other = await create_topic(client)
        sub = await create_subscription(client, topic)
        await create_subscription(client, other)
        await publish(client, topic, "a", "b")
        # When
        listed = await (await client.get(f"/v1/subscriptions?topic={topic}")).json()
        described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
        # Then
        assert [s["name"] for s in listed["subscriptions"]] == [sub]
        assert described["backlog"] == 2
        assert described["in_flight"] == 0
        assert described["members"] == []

    async def test_a_deleted_subscription_is_gone(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        assert (await client.delete(f"/v1/subscriptions/{sub}")).status == 204
        assert (await client.get(f"/v1/subscriptions/{sub}")).status == 404
        assert (await client.delete(f"/v1/subscriptions/{sub}")).status == 404


class TestPull:
    async def test_a_long_poll_returns_as_soon_as_a_message_is_published(
        self, client: Client
    ) -> None:
        # Given a subscription with nothing to deliver, and a pull waiting up to 20 s
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        assert await pull(client, sub) == []
        loop = asyncio.get_running_loop()
        started = loop.time()
        waiting = asyncio.create_task(pull(client, sub, wait_seconds=20))
        # When a message is published while it waits
        await publish(client, topic, "wake up")
        messages = await waiting
        # Then it answered with the message, long before its wait ran out
        assert [m["data"] for m in messages] == ["wake up"]
        assert loop.time() - started < 10
        assert messages[0]["delivery_attempt"] == 1
        assert messages[0]["subscription"] == sub

    async def test_pull_limits_are_checked(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        path = f"/v1/subscriptions/{sub}/pull"
        too_many = await client.post(path, json={"max_messages": 1001})
        too_long = await client.post(path, json={"wait_seconds": 31})
        wrong_type = await client.post(path, json={"max_messages": "10"})
        assert [too_many.status, too_long.status, wrong_type.status] == [400, 400, 400]

    async def test_a_pull_with_an_unknown_member_is_a_404(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        response = await client.post(f"/v1/subscriptions/{sub}/pull", json={"member_id": "ghost"})
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "member_not_found"

    async def test_a_pull_without_a_body_uses_the_defaults(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "x")
        response = await client.post(f"/v1/subscriptions/{sub}/pull")
        assert response.status == 200
        assert len((await response.json())["messages"]) == 1


class TestSettle:
    async def test_ack_settles_and_reports_unknown_ids(self, client: Client) -> None:
        # Given
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "a")
        [message] = await pull(client, sub)
        # When
        body = {"ack_ids": [message["ack_id"], "nope"]}
        response = await client.post(f"/v1/subscriptions/{sub}/ack", json=body)
        # Then
        assert await response.json() == {"acked": 1, "unknown": ["nope"]}
        described = await (await client.get(f"/v1/subscriptions/{sub}")).json()
        assert (described["backlog"], described["in_flight"]) == (0, 0)

    async def test_nack_redelivers_with_the_next_attempt(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "again")
        [first] = await pull(client, sub)
        body = {"ack_ids": [first["ack_id"]], "delay_seconds": 0}
        nacked = await client.post(f"/v1/subscriptions/{sub}/nack", json=body)
        assert await nacked.json() == {"nacked": 1, "unknown": []}
        [second] = await pull(client, sub)
        assert second["id"] == first["id"]
        assert second["delivery_attempt"] == 2

    async def test_extend_moves_the_deadline(self, client: Client, clock: ManualClock) -> None:
        # Given a delivery with the default 30 s deadline
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "slow")
        [message] = await pull(client, sub)
        # When it is extended to 120 s and 60 s pass
        body = {"ack_ids": [message["ack_id"]], "seconds": 120}
        extended = await client.post(f"/v1/subscriptions/{sub}/extend", json=body)
        clock.advance(60)
        # Then it is still in flight and can be acked
        assert await extended.json() == {"extended": 1, "unknown": []}
        acked = await client.post(f"/v1/subscriptions/{sub}/ack", json={"ack_ids": body["ack_ids"]})
        assert (await acked.json())["acked"] == 1

    async def test_ack_without_ack_ids_is_a_400(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        response = await client.post(f"/v1/subscriptions/{sub}/ack", json={"ack_ids": []})
        assert response.status == 400


class TestSeekAndRedrive:
    async def test_seek_to_earliest_delivers_acked_messages_again(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "a")
        [message] = await pull(client, sub)
        await client.post(f"/v1/subscriptions/{sub}/ack", json={"ack_ids": [message["ack_id"]]})
        sought = await client.post(f"/v1/subscriptions/{sub}/seek", json={"position": "earliest"})
        assert sought.status == 204
        assert [m["data"] for m in await pull(client, sub)] == ["a"]

    async def test_seek_to_a_timestamp_skips_older_messages(
        self, client: Client, clock: ManualClock
    ) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "old")
        clock.advance(10)
        cut = clock.now()
        await publish(client, topic, "new")
        response = await client.post(f"/v1/subscriptions/{sub}/seek", json={"timestamp": cut})
        assert response.status == 204
        assert [m["data"] for m in await pull(client, sub)] == ["new"]

    async def test_seek_needs_exactly_one_of_position_and_timestamp(self, client: Client) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        path = f"/v1/subscriptions/{sub}/seek"
        neither = await client.post(path, json={})
        both = await client.post(path, json={"position": "latest", "timestamp": 1})
        unknown = await client.post(path, json={"position": "middle"})
        assert [neither.status, both.status, unknown.status] == [400, 400, 400]

    async def test_redrive_moves_dead_letters_back(self, client: Client) -> None:
        # Given a message dead-lettered after one attempt
        topic = await create_topic(client)
        dead = await create_topic(client)
        sub = await create_subscription(
            client, topic, max_delivery_attempts=1, dead_letter_topic=dead
        )
        await publish(client, topic, "poison")
        [message] = await pull(client, sub)
        nack = {"ack_ids": [message["ack_id"]], "delay_seconds": 0}
        await client.post(f"/v1/subscriptions/{sub}/nack", json=nack)
        # When
        response = await client.post(f"/v1/subscriptions/{sub}/redrive")
        # Then
        assert await response.json() == {"moved": 1}
        [again] = await pull(client, sub)
        assert again["data"] == "poison"

    async def test_the_description_has_the_consume_rate_of_the_last_minute(
        self, client: Client
    ) -> None:
        # Given a subscription that delivered 6 messages, and one that delivered none
        topic = await create_topic(client)
        busy = await create_subscription(client, topic)
        idle = await create_subscription(client, topic)
        await publish(client, topic, *"abcdef")
        assert len(await pull(client, busy, max_messages=10)) == 6
        # When
        rates = [
            (await (await client.get(f"/v1/subscriptions/{s}")).json())["consume_rate_per_second"]
            for s in (busy, idle)
        ]
        # Then: six deliveries averaged over the minute
        assert rates == [0.1, 0.0]


class TestMembers:
    async def test_join_heartbeat_and_leave(self, client: Client) -> None:
        # Given
        topic = await create_topic(client, partitions=3)
        sub = await create_subscription(client, topic, ordered=True)
        # When
        joined = await client.post(f"/v1/subscriptions/{sub}/members")
        membership = await joined.json()
        member = membership["member_id"]
        beat = await client.post(f"/v1/subscriptions/{sub}/members/{member}/heartbeat")
        left = await client.delete(f"/v1/subscriptions/{sub}/members/{member}")
        expelled = await client.post(f"/v1/subscriptions/{sub}/members/{member}/heartbeat")
        # Then
        assert joined.status == 201
        assert membership["assignment"] == [0, 1, 2]
        assert membership["heartbeat_interval_seconds"] == 0.1
        generation = membership["generation"]
        assert await beat.json() == {"generation": generation, "assignment": [0, 1, 2]}
        assert left.status == 204
        assert expelled.status == 404

    async def test_a_second_member_takes_over_partitions(self, client: Client) -> None:
        topic = await create_topic(client, partitions=2)
        sub = await create_subscription(client, topic, ordered=True)
        first = await (await client.post(f"/v1/subscriptions/{sub}/members")).json()
        second = await (
            await client.post(f"/v1/subscriptions/{sub}/members", json={"member_id": "m2"})
        ).json()
        beat = await client.post(f"/v1/subscriptions/{sub}/members/{first['member_id']}/heartbeat")
        assert second["member_id"] == "m2"
        assert len((await beat.json())["assignment"]) == 1
        assert (await beat.json())["generation"] == second["generation"]

    async def test_joining_a_missing_subscription_is_a_404(self, client: Client) -> None:
        response = await client.post("/v1/subscriptions/nothing-here/members")
        assert response.status == 404
