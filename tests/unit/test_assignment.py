"""Tests for the sticky, balanced consumer-group partition assignment."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from itertools import combinations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pubsubgo.core.assignment import assign_partitions, moved_partitions
from pubsubgo.core.errors import InvalidArgument

Assignment = Mapping[str, Sequence[int]]

MEMBER_POOL = [f"m{i}" for i in range(9)]


def assert_valid(result: Assignment, partitions: int, members: Sequence[str]) -> None:
    """Assert one owner per partition, every member a key, balanced, tuples sorted."""
    assert set(result) == set(members)
    owned = [p for parts in result.values() for p in parts]
    assert sorted(owned) == list(range(partitions))
    floor, ceil = partitions // len(members), -(-partitions // len(members))
    for parts in result.values():
        assert floor <= len(parts) <= ceil
        assert list(parts) == sorted(parts)


def moved_below(previous: Assignment, current: Assignment, partitions: int) -> int:
    """Count the moved partitions that still exist."""
    return sum(1 for p in moved_partitions(previous, current) if p < partitions)


def minimum_moves(partitions: int, members: Sequence[str], previous: Assignment) -> int:
    """Compute the fewest possible moves by brute force over who gets the ceil quota."""
    floor, extra = divmod(partitions, len(members))
    held = {m: sum(1 for p in previous.get(m, ()) if p < partitions) for m in members}
    best = max(
        sum(min(held[m], floor + (m in promoted)) for m in members)
        for promoted in map(set, combinations(members, extra))
    )
    return partitions - best


members_st = st.lists(st.sampled_from(MEMBER_POOL), min_size=1, max_size=6, unique=True)
partitions_st = st.integers(min_value=1, max_value=12)


@st.composite
def earlier_assignments(draw: st.DrawFn) -> dict[str, tuple[int, ...]]:
    """An assignment produced by ``assign_partitions`` from a random earlier state."""
    first = assign_partitions(draw(partitions_st), draw(members_st), {})
    return assign_partitions(draw(partitions_st), draw(members_st), first)


@st.composite
def arbitrary_ownerships(draw: st.DrawFn) -> dict[str, list[int]]:
    """A valid but possibly unbalanced ownership map, maybe with partitions >= 12."""
    owners = draw(st.lists(st.none() | st.sampled_from(MEMBER_POOL), max_size=16))
    ownership: dict[str, list[int]] = {}
    for partition, owner in enumerate(owners):
        if owner is not None:
            ownership.setdefault(owner, []).append(partition)
    return ownership


class TestFirstJoin:
    def test_a_single_first_member_takes_every_partition(self) -> None:
        assert assign_partitions(4, ["a"], {}) == {"a": (0, 1, 2, 3)}

    def test_first_members_split_the_partitions_evenly(self) -> None:
        result = assign_partitions(5, ["b", "a"], {})
        assert result == {"a": (0, 1, 2), "b": (3, 4)}

    def test_no_members_gives_an_empty_assignment(self) -> None:
        assert assign_partitions(4, [], {"a": [0, 1, 2, 3]}) == {}


class TestJoin:
    def test_a_second_join_moves_exactly_half_the_partitions(self) -> None:
        previous = {"a": (0, 1, 2, 3)}
        result = assign_partitions(4, ["a", "b"], previous)
        assert_valid(result, 4, ["a", "b"])
        assert moved_partitions(previous, result) == set(result["b"])
        assert len(result["b"]) == 2

    def test_a_joiner_takes_one_partition_from_each_overfull_member(self) -> None:
        previous = {"a": (0, 1, 2), "b": (3, 4, 5)}
        result = assign_partitions(6, ["a", "b", "c"], previous)
        assert_valid(result, 6, ["a", "b", "c"])
        assert len(moved_partitions(previous, result)) == 2
        assert set(result["a"]) < {0, 1, 2}
        assert set(result["b"]) < {3, 4, 5}


class TestLeave:
    def test_a_leave_moves_only_the_leavers_partitions(self) -> None:
        previous = assign_partitions(7, ["a", "b", "c"], {})
        result = assign_partitions(7, ["a", "c"], previous)
        assert_valid(result, 7, ["a", "c"])
        assert moved_partitions(previous, result) == set(previous["b"])

    def test_the_last_member_leaving_gives_an_empty_assignment(self) -> None:
        assert assign_partitions(3, [], {"a": (0, 1, 2)}) == {}


class TestEdgeCases:
    def test_more_members_than_partitions_leaves_some_members_without_any(self) -> None:
        result = assign_partitions(2, ["a", "b", "c", "d"], {})
        assert_valid(result, 2, ["a", "b", "c", "d"])
        assert sorted(len(parts) for parts in result.values()) == [0, 0, 1, 1]

    def test_members_that_owned_partitions_keep_them_when_partitions_are_scarce(self) -> None:
        previous = {"c": (0,), "d": (1,)}
        result = assign_partitions(2, ["a", "b", "c", "d"], previous)
        assert result == {"a": (), "b": (), "c": (0,), "d": (1,)}

    def test_partitions_of_a_shrunk_topic_are_ignored(self) -> None:
        previous = {"a": (0, 1, 2, 3), "b": (4, 5, 6, 7)}
        result = assign_partitions(4, ["a", "b"], previous)
        assert_valid(result, 4, ["a", "b"])
        assert moved_below(previous, result, 4) == 2

    def test_negative_partitions_in_previous_are_ignored(self) -> None:
        result = assign_partitions(2, ["a"], {"a": (-1, 0, 1)})
        assert result == {"a": (0, 1)}

    def test_previous_owners_that_are_not_members_are_ignored(self) -> None:
        previous = {"ghost": (0, 1), "a": (2,)}
        result = assign_partitions(3, ["a", "b"], previous)
        assert_valid(result, 3, ["a", "b"])
        assert 2 in result["a"]

    def test_a_member_holding_more_than_the_ceil_keeps_exactly_the_ceil(self) -> None:
        previous = {"a": (0, 1, 2, 3, 4, 5)}
        result = assign_partitions(7, ["a", "b", "c"], previous)
        assert_valid(result, 7, ["a", "b", "c"])
        assert len(result["a"]) == 3
        assert set(result["a"]) <= set(previous["a"])

    def test_the_ceil_quota_goes_to_the_biggest_previous_holder(self) -> None:
        previous = {"a": (0,), "b": (1, 2, 3, 4)}
        result = assign_partitions(5, ["a", "b"], previous)
        assert len(result["b"]) == 3
        assert moved_below(previous, result, 5) == 1

    def test_duplicate_member_ids_count_once(self) -> None:
        assert assign_partitions(2, ["a", "a", "b"], {}) == {"a": (0,), "b": (1,)}

    def test_a_partition_claimed_twice_belongs_to_the_smallest_member_id(self) -> None:
        previous = {"b": (0,), "a": (0,)}
        result = assign_partitions(2, ["a", "b"], previous)
        assert result == {"a": (0,), "b": (1,)}
        assert moved_partitions(previous, result) == {1}

    @pytest.mark.parametrize("partitions", [0, -3])
    def test_a_partition_count_below_one_is_rejected(self, partitions: int) -> None:
        with pytest.raises(InvalidArgument):
            assign_partitions(partitions, ["a"], {})

    def test_a_large_group_is_assigned_instantly(self) -> None:
        members = [f"member-{i}" for i in range(1000)]
        previous = assign_partitions(256, members[:100], {})
        started = time.perf_counter()
        result = assign_partitions(256, members, previous)
        assert time.perf_counter() - started < 0.5
        assert_valid(result, 256, members)


class TestMovedPartitions:
    def test_identical_assignments_move_nothing(self) -> None:
        assert moved_partitions({"a": (0, 1)}, {"a": [1, 0]}) == set()

    def test_a_partition_with_a_new_owner_counts_as_moved(self) -> None:
        assert moved_partitions({"a": (0, 1)}, {"a": (0,), "b": (1,)}) == {1}

    def test_a_partition_without_a_previous_owner_counts_as_moved(self) -> None:
        assert moved_partitions({}, {"a": (0, 1)}) == {0, 1}

    def test_a_partition_that_no_longer_exists_counts_as_moved(self) -> None:
        assert moved_partitions({"a": (0, 1)}, {"a": (0,)}) == {1}


class TestProperties:
    @given(partitions=partitions_st, members=members_st, previous=earlier_assignments())
    def test_each_partition_has_one_owner_and_the_members_are_balanced(
        self, partitions: int, members: list[str], previous: dict[str, tuple[int, ...]]
    ) -> None:
        assert_valid(assign_partitions(partitions, members, previous), partitions, members)

    @given(partitions=partitions_st, members=members_st, previous=arbitrary_ownerships())
    def test_an_arbitrary_previous_still_gives_a_valid_assignment(
        self, partitions: int, members: list[str], previous: dict[str, list[int]]
    ) -> None:
        assert_valid(assign_partitions(partitions, members, previous), partitions, members)

    @given(partitions=partitions_st, members=members_st, previous=earlier_assignments())
    def test_movement_from_an_earlier_assignment_is_minimal(
        self, partitions: int, members: list[str], previous: dict[str, tuple[int, ...]]
    ) -> None:
        result = assign_partitions(partitions, members, previous)
        expected = minimum_moves(partitions, members, previous)
        assert moved_below(previous, result, partitions) == expected

    @given(partitions=partitions_st, members=members_st, previous=arbitrary_ownerships())
    def test_movement_from_an_arbitrary_ownership_is_minimal(
        self, partitions: int, members: list[str], previous: dict[str, list[int]]
    ) -> None:
        result = assign_partitions(partitions, members, previous)
        expected = minimum_moves(partitions, members, previous)
        assert moved_below(previous, result, partitions) == expected

    @given(
        partitions=partitions_st,
        members=members_st,
        previous=arbitrary_ownerships(),
        seed=st.integers(min_value=0, max_value=2**32 - 1),
    )
    def test_shuffling_members_and_previous_does_not_change_the_result(
        self, partitions: int, members: list[str], previous: dict[str, list[int]], seed: int
    ) -> None:
        rng = random.Random(seed)
        shuffled_members = rng.sample(members, len(members))
        keys = rng.sample(list(previous), len(previous))
        shuffled_previous = {key: rng.sample(previous[key], len(previous[key])) for key in keys}
        assert assign_partitions(partitions, shuffled_members, shuffled_previous) == (
            assign_partitions(partitions, members, previous)
        )
