"""Unit: the pure rules of core entities, without storage."""

from __future__ import annotations

import pytest

from pubsubgo.core.errors import ErrorKind, InvalidSetting, TopicNotFound
from pubsubgo.core.groups import GroupState, Member
from pubsubgo.core.messages import Priority, message_id, partition_of
from pubsubgo.core.subscriptions import RetryPolicy, Subscription, SubscriptionType


class TestRetryPolicy:
    def test_backoff_starts_at_the_minimum_and_doubles(self) -> None:
        policy = RetryPolicy(minimum_backoff_seconds=0.5, maximum_backoff_seconds=100)

        assert [policy.backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0]

    def test_backoff_is_capped_at_the_maximum_even_after_many_attempts(self) -> None:
        policy = RetryPolicy(minimum_backoff_seconds=1, maximum_backoff_seconds=60)

        assert policy.backoff(7) == 60
        assert policy.backoff(10_000) == 60

    @pytest.mark.parametrize(("low", "high"), [(-1, 5), (10, 5), (1, 4000)])
    def test_inconsistent_bounds_are_refused(self, low: float, high: float) -> None:
        with pytest.raises(InvalidSetting):
            RetryPolicy(minimum_backoff_seconds=low, maximum_backoff_seconds=high)


class TestSubscriptionSettings:
    @pytest.mark.parametrize("deadline", [0, 601])
    def test_an_ack_deadline_outside_one_to_six_hundred_is_refused(self, deadline: int) -> None:
        with pytest.raises(InvalidSetting, match="ack_deadline_seconds"):
            Subscription("s", "t", ack_deadline_seconds=deadline)

    def test_a_push_subscription_needs_an_endpoint(self) -> None:
        with pytest.raises(InvalidSetting, match="push_endpoint"):
            Subscription("s", "t", type=SubscriptionType.PUSH)

    def test_the_last_allowed_attempt_is_the_exhausting_one(self) -> None:
        sub = Subscription("s", "t", max_delivery_attempts=3, dead_letter_topic="dead")

        assert [sub.exhausted(n) for n in (1, 2, 3)] == [False, False, True]

    def test_unlimited_attempts_are_never_exhausted(self) -> None:
        assert not Subscription("s", "t").exhausted(1_000_000)


class TestGroupState:
    def test_a_member_expires_only_after_a_whole_session_without_heartbeat(self) -> None:
        member = Member("m", joined_at=0, last_heartbeat=100)

        assert not member.is_expired(115, session_timeout=15)
        assert member.is_expired(115.1, session_timeout=15)

    def test_joining_and_leaving_advance_the_generation(self) -> None:
        state = GroupState("s")

        joined = state.joined(Member("a", 0, 0), partitions=2)
        left = joined.without({"a"}, partitions=2)

        assert (joined.generation, left.generation) == (1, 2)
        assert joined.assignment == {"a": (0, 1)}
        assert left.assignment == {}

    def test_the_owner_of_a_partition_is_found(self) -> None:
        state = GroupState("s").joined(Member("a", 0, 0), 2).joined(Member("b", 0, 0), 2)

        assert {state.owner_of(0), state.owner_of(1)} == {"a", "b"}
        assert state.owner_of(5) is None


class TestMessageIds:
    def test_the_partition_is_read_back_from_an_id(self) -> None:
        assert partition_of(message_id(7, 42)) == 7

    @pytest.mark.parametrize("bad", ["", "x-1", "-1", "12"])
    def test_a_malformed_id_has_no_partition(self, bad: str) -> None:
        assert partition_of(bad) is None

    def test_priorities_rank_from_low_to_critical(self) -> None:
        ranks = [p.rank for p in (Priority.LOW, Priority.NORMAL, Priority.HIGH, Priority.CRITICAL)]
        assert ranks == [0, 1, 2, 3]


class TestErrors:
    def test_errors_carry_their_resource_and_a_stable_code(self) -> None:
        error = TopicNotFound("orders")

        assert error.code == "topic_not_found"
        assert error.kind is ErrorKind.NOT_FOUND
        assert error.details() == {"topic": "orders"}
        assert "orders" in str(error)
