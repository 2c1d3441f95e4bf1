"""Contract: consumer groups join, heartbeat, leave, expire and rebalance."""

from __future__ import annotations

import pytest

from pubsubgo.core.assignment import moved_partitions
from pubsubgo.core.errors import MemberNotFound, SubscriptionNotFound
from pubsubgo.core.messages import AckId, Delivery
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.contract.helpers import new_subscription, new_topic, publish, pull

SESSION_TIMEOUT = 15.0  # the broker fixture's group settings


class TestMembership:
    async def test_each_join_starts_a_new_generation(self, broker: Broker) -> None:
        topic = await new_topic(broker, partitions=4)
        subscription = await new_subscription(broker, topic, ordered=True)

        one = await broker.groups.join(subscription)
        two = await broker.groups.join(subscription)

        assert (one.generation, two.generation) == (1, 2)
        assert one.heartbeat_interval_seconds == 3.0
        assert one.session_timeout_seconds == SESSION_TIMEOUT

    async def test_a_member_that_stops_heartbeating_is_evicted(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker, partitions=2)
        subscription = await new_subscription(broker, topic, ordered=True)
        alive = await broker.groups.join(subscription)
        silent = await broker.groups.join(subscription)

        for _ in range(6):
            clock.advance(3)
            await broker.groups.heartbeat(subscription, alive.member_id)
            await broker.run_duties()

        group = await broker.groups.describe(subscription)
        assert set(group.members) == {alive.member_id}
        assert group.assignment[alive.member_id] == (0, 1)
        with pytest.raises(MemberNotFound):
            await broker.groups.heartbeat(subscription, silent.member_id)

    async def test_a_heartbeat_keeps_the_generation(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        joined = await broker.groups.join(subscription)

        beat = await broker.groups.heartbeat(subscription, joined.member_id)

        assert beat.generation == joined.generation

    async def test_unordered_members_share_every_partition(self, broker: Broker) -> None:
        topic = await new_topic(broker, partitions=3)
        subscription = await new_subscription(broker, topic)

        one = await broker.groups.join(subscription)
        two = await broker.groups.join(subscription)

        assert one.assignment == two.assignment == (0, 1, 2)

    async def test_a_pull_from_an_evicted_member_is_refused(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        member = await broker.groups.join(subscription)

        clock.advance(SESSION_TIMEOUT + 1)
        await broker.run_duties()

        with pytest.raises(MemberNotFound):
            await pull(broker, subscription, member_id=member.member_id)

    async def test_a_pull_from_a_member_that_left_is_refused(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        staying = await broker.groups.join(subscription)
        leaving = await broker.groups.join(subscription)
        await publish(broker, topic, "a")

        await broker.groups.leave(subscription, leaving.member_id)

        with pytest.raises(MemberNotFound):
            await pull(broker, subscription, member_id=leaving.member_id)
        assert len(await pull(broker, subscription, member_id=staying.member_id)) == 1

    async def test_every_member_pulls_after_each_join_and_heartbeat(self, broker: Broker) -> None:
        topic = await new_topic(broker, partitions=2)
        subscription = await new_subscription(broker, topic)
        first = await broker.groups.join(subscription)
        await broker.groups.heartbeat(subscription, first.member_id)
        second = await broker.groups.join(subscription)
        await publish(broker, topic, "a", "b")

        got_first = await pull(broker, subscription, 1, member_id=first.member_id)
        got_second = await pull(broker, subscription, 1, member_id=second.member_id)

        assert len(got_first) == len(got_second) == 1

    async def test_a_member_of_another_subscription_is_not_a_member(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic)
        other = await new_subscription(broker, topic)
        await broker.groups.join(subscription)
        stranger = await broker.groups.join(other)
        await publish(broker, topic, "a")

        with pytest.raises(MemberNotFound):
            await pull(broker, subscription, member_id=stranger.member_id)

    async def test_a_non_durable_subscription_goes_with_its_last_member(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, durable=False)
        one = await broker.groups.join(subscription)
        two = await broker.groups.join(subscription)

        await broker.groups.leave(subscription, one.member_id)
        still_there = await broker.subscriptions.get(subscription)
        await broker.groups.leave(subscription, two.member_id)

        assert still_there.name == subscription
        with pytest.raises(SubscriptionNotFound):
            await broker.subscriptions.get(subscription)


class TestRebalancing:
    async def test_a_join_moves_only_the_partitions_the_newcomer_needs(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker, partitions=6)
        subscription = await new_subscription(broker, topic, ordered=True)
        await broker.groups.join(subscription)
        await broker.groups.join(subscription)
        before = (await broker.groups.describe(subscription)).assignment

        newcomer = await broker.groups.join(subscription)

        after = (await broker.groups.describe(subscription)).assignment
        assert len(moved_partitions(before, after)) == 2
        assert len(newcomer.assignment) == 2
        assert sorted(p for parts in after.values() for p in parts) == list(range(6))

    async def test_a_leave_moves_only_the_leavers_partitions(self, broker: Broker) -> None:
        topic = await new_topic(broker, partitions=6)
        subscription = await new_subscription(broker, topic, ordered=True)
        members = [await broker.groups.join(subscription) for _ in range(3)]
        before = (await broker.groups.describe(subscription)).assignment
        leaver = members[0].member_id

        await broker.groups.leave(subscription, leaver)

        after = (await broker.groups.describe(subscription)).assignment
        assert moved_partitions(before, after) == set(before[leaver])

    async def test_only_the_owner_of_a_partition_receives_it_when_ordered(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker, partitions=2)
        subscription = await new_subscription(broker, topic, ordered=True)
        one = await broker.groups.join(subscription)
        two = await broker.groups.join(subscription)
        await publish(broker, topic, *[str(i) for i in range(10)])

        got_one = await pull(broker, subscription, member_id=one.member_id)
        got_two = await pull(broker, subscription, member_id=two.member_id)

        assignment = (await broker.groups.describe(subscription)).assignment
        assert {d.message.partition for d in got_one} == set(assignment[one.member_id])
        assert {d.message.partition for d in got_two} == set(assignment[two.member_id])
        assert set(assignment[one.member_id]).isdisjoint(assignment[two.member_id])
        assert len(got_one) + len(got_two) == 10

    async def test_a_revoked_partitions_unacked_messages_go_to_the_new_owner(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker, partitions=2)
        subscription = await new_subscription(broker, topic, ordered=True)
        first = await broker.groups.join(subscription)
        await publish(broker, topic, *[str(i) for i in range(6)])
        held = await pull(broker, subscription, member_id=first.member_id)
        assert len(held) == 6

        second = await broker.groups.join(subscription)
        handed_over = await pull(broker, subscription, member_id=second.member_id)

        moved = set(second.assignment)
        expected = sorted(d.message.id for d in held if d.message.partition in moved)
        assert sorted(d.message.id for d in handed_over) == expected
        assert expected
        stale = await broker.acks.ack(subscription, _ack_ids(held, moved))
        assert stale.count == 0  # the old owner's handles stopped working

    async def test_a_closed_consumers_messages_go_to_others_at_once(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        subscription = await new_subscription(broker, topic, ack_deadline_seconds=600)
        quitter = await broker.groups.join(subscription)
        stayer = await broker.groups.join(subscription)
        await publish(broker, topic, "a", "b")
        held = await pull(broker, subscription, member_id=quitter.member_id)

        await broker.groups.leave(subscription, quitter.member_id)
        received = await pull(broker, subscription, member_id=stayer.member_id)

        assert len(held) == 2
        assert sorted(d.message.id for d in received) == sorted(d.message.id for d in held)
        assert all(d.delivery_attempt == 2 for d in received)


def _ack_ids(deliveries: list[Delivery], partitions: set[int]) -> list[AckId]:
    return [d.ack_id for d in deliveries if d.message.partition in partitions]
