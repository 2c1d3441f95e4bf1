"""Sticky, balanced partition assignment for a consumer group.

When a consumer group's membership changes, the broker hands out the partitions
``0..P-1`` of a topic among the ``M`` current members. Two goals pull together:

* **Balance.** Every member owns ``P // M`` (the *floor*) or ``P // M + 1`` (the
  *ceil*) partitions, so exactly ``P % M`` members get the ceil quota.
* **Stickiness.** As few partitions as possible change owner, because every move
  revokes a partition from a consumer that may be mid-batch.

The algorithm, in three steps:

1. *Count what each member still holds.* From the previous assignment keep only the
   partitions that still exist (``< P``) and whose owner is still a member; call the
   count for member ``i`` ``c_i``.
2. *Choose the quotas.* Hand the ``P % M`` ceil quotas to the members with the
   largest ``c_i`` (ties broken by member id), every other member gets the floor.
3. *Keep, then fill.* Each member keeps its lowest ``min(c_i, q_i)`` previous
   partitions; the partitions it gives up, plus those nobody (current) owned, are
   dealt in ascending order to the members still under quota, in member-id order.

Why this is minimal. Any assignment can keep member ``i``'s partition only if ``i``
owned it before, and ``i`` owns at most ``q_i`` partitions, so it keeps at most
``min(c_i, q_i)``. The number of moved partitions is therefore at least
``P - Σ min(c_i, q_i)`` for whatever balanced quota vector ``q`` it uses. Step 3
reaches that bound for the chosen ``q`` (the quotas sum to ``P``, so every freed
partition finds a member under quota). Step 2 picks the best ``q``: promoting
member ``i`` from floor to ceil raises ``min(c_i, q_i)`` by exactly one if
``c_i > floor`` and by zero otherwise, so the sum is maximised by promoting the
members with the largest ``c_i``. Hence the number of moved partitions is
``P - max_q Σ min(c_i, q_i)``, the minimum over all balanced assignments.

Everything is sorted before use, so the result depends only on the inputs' values,
never on the iteration order of ``members`` or ``previous``. The cost is
``O(P log P + M log M)`` (plus the size of ``previous``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from itertools import islice

from pubsubgo.core.errors import InvalidArgument

__all__ = ["assign_partitions", "moved_partitions"]


def assign_partitions(
    partitions: int,
    members: Collection[str],
    previous: Mapping[str, Sequence[int]],
) -> dict[str, tuple[int, ...]]:
    """Assign partitions ``0..partitions-1`` to ``members``, balanced and sticky.

    Args:
        partitions: The partition count ``P`` (at least 1).
        members: The current member ids; duplicates are ignored. May be empty.
        previous: The last assignment, member id to partitions. Members that have
            left and partitions ``>= partitions`` (the topic shrank) are ignored.
            A partition listed under several members belongs to the smallest id.

    Returns:
        Every current member mapped to its partitions in ascending order (possibly
        empty). Each partition has exactly one owner, every member owns
        ``P // M`` or ``P // M + 1`` partitions, and the number of partitions whose
        owner differs from ``previous`` is the minimum any balanced assignment
        can achieve. An empty mapping when there are no members.

    Raises:
        InvalidArgument: If ``partitions`` is less than 1.
    """
    if partitions < 1:
        raise InvalidArgument(
            f"partitions must be at least 1, got {partitions}", field="partitions"
        )
    ordered = sorted(set(members))
    if not ordered:
        return {}
    held = _still_held(partitions, ordered, previous)
    quotas = _quotas(partitions, ordered, held)
    kept = {member: held[member][: quotas[member]] for member in ordered}
    return _fill(partitions, ordered, quotas, kept)


def moved_partitions(
    previous: Mapping[str, Sequence[int]],
    current: Mapping[str, Sequence[int]],
) -> set[int]:
    """Return the partitions whose owner differs between two assignments.

    A partition present in only one of the two counts as moved: one with no
    previous owner was not owned before, and one missing from ``current`` (the
    topic shrank) was revoked. A partition listed under several members belongs
    to the smallest id, as in :func:`assign_partitions`.

    Args:
        previous: The assignment before the change, member id to partitions.
        current: The assignment after the change, member id to partitions.

    Returns:
        The set of partitions whose owner changed.
    """
    before = _owners(previous)
    after = _owners(current)
    return {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}


def _owners(assignment: Mapping[str, Sequence[int]]) -> dict[int, str]:
    """Map each partition to its owner, resolving duplicate claims to the smallest id.

    Args:
        assignment: Member id to partitions.

    Returns:
        Partition to owning member id.
    """
    owners: dict[int, str] = {}
    # Visiting members in reverse id order lets the smallest id write last and win,
    # which keeps the outcome independent of the mapping's iteration order.
    for member in sorted(assignment, reverse=True):
        for partition in assignment[member]:
            owners[partition] = member
    return owners


def _still_held(
    partitions: int,
    members: Sequence[str],
    previous: Mapping[str, Sequence[int]],
) -> dict[str, list[int]]:
    """Return, per current member, the previous partitions it may keep, ascending.

    Args:
        partitions: The partition count ``P``.
        members: The current member ids, sorted.
        previous: The last assignment.

    Returns:
        Every current member mapped to its previous partitions that still exist.
    """
    held: dict[str, list[int]] = {member: [] for member in members}
    for partition, owner in _owners(previous).items():
        # Partitions of a shrunk topic and of departed members cannot be kept.
        if 0 <= partition < partitions and owner in held:
            held[owner].append(partition)
    for owned in held.values():
        owned.sort()
    return held


def _quotas(
    partitions: int,
    members: Sequence[str],
    held: Mapping[str, Sequence[int]],
) -> dict[str, int]:
    """Choose each member's quota so that the most previous partitions can be kept.

    Args:
        partitions: The partition count ``P``.
        members: The current member ids, sorted.
        held: Each member's keepable previous partitions.

    Returns:
        Member id to quota; exactly ``P % M`` members get ``P // M + 1``.
    """
    floor, extra = divmod(partitions, len(members))
    # A ceil quota saves a move only for a member holding more than the floor, so
    # the ceil slots go to the biggest holders; ties fall to the smaller id.
    by_holdings = sorted(members, key=lambda member: (-len(held[member]), member))
    promoted = set(by_holdings[:extra])
    return {member: floor + (member in promoted) for member in members}


def _fill(
    partitions: int,
    members: Sequence[str],
    quotas: Mapping[str, int],
    kept: Mapping[str, Sequence[int]],
) -> dict[str, tuple[int, ...]]:
    """Deal the partitions nobody kept to the members under quota.

    Args:
        partitions: The partition count ``P``.
        members: The current member ids, sorted.
        quotas: Each member's quota; the quotas sum to ``P``.
        kept: Each member's kept partitions, ascending, within quota.

    Returns:
        The complete assignment, each member's partitions ascending.
    """
    taken = {partition for owned in kept.values() for partition in owned}
    free = (partition for partition in range(partitions) if partition not in taken)
    result: dict[str, tuple[int, ...]] = {}
    for member in members:
        # The quotas sum to P, so the free partitions exactly cover the shortfalls.
        shortfall = quotas[member] - len(kept[member])
        result[member] = tuple(sorted([*kept[member], *islice(free, shortfall)]))
    return result
