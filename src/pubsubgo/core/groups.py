"""Consumer groups: the members of a subscription and which partitions each one owns."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace

from pubsubgo.core.assignment import assign_partitions


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """Broker-wide timing of group membership."""

    heartbeat_interval_seconds: float = 3.0
    session_timeout_seconds: float = 15.0
    #: Joins, leaves and evictions of one broker process that come within this long of
    #: each other make one rebalance (one generation), so that a storm of joins does not
    #: make a generation, and a notice to every member, each.
    rebalance_settle_seconds: float = 0.1


@dataclass(frozen=True, slots=True)
class Member:
    """One consumer in a group."""

    id: str
    joined_at: float
    last_heartbeat: float

    def is_expired(self, now: float, session_timeout: float) -> bool:
        """True once the member has missed its heartbeats for a whole session timeout."""
        return now - self.last_heartbeat > session_timeout


@dataclass(frozen=True, slots=True)
class GroupState:
    """A group at one generation: its members and their partitions.

    Every change of membership makes a new generation; writers save with the generation they
    read, so two brokers cannot both apply a change to the same generation.
    """

    subscription: str
    generation: int = 0
    members: Mapping[str, Member] = field(default_factory=dict)
    assignment: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def joined(self, member: Member, partitions: int) -> GroupState:
        """The next generation with ``member`` added (or refreshed) and partitions rebalanced."""
        return self._rebalanced({**self.members, member.id: member}, partitions)

    def without(self, member_ids: set[str], partitions: int) -> GroupState:
        """The next generation with ``member_ids`` removed and partitions rebalanced."""
        remaining = {mid: m for mid, m in self.members.items() if mid not in member_ids}
        return self._rebalanced(remaining, partitions)

    def changed(
        self, joins: Iterable[Member], leaves: set[str], partitions: int, *, assign: bool
    ) -> GroupState:
        """The next generation with ``joins`` added (or refreshed), then ``leaves`` removed.

        ``assign``: rebalance the partitions; without it (unordered subscriptions, whose
        members share every partition) the assignment is left empty.
        """
        members = {**self.members, **{m.id: m for m in joins}}
        for member_id in leaves:
            members.pop(member_id, None)
        if not assign:
            return GroupState(self.subscription, self.generation + 1, members, {})
        return self._rebalanced(members, partitions)

    def heartbeat(self, member_id: str, now: float) -> GroupState:
        """The same generation with the member's heartbeat refreshed."""
        return self.heartbeats([member_id], now)

    def heartbeats(self, member_ids: Iterable[str], now: float) -> GroupState:
        """The same generation with the heartbeats of ``member_ids`` (members all)
        refreshed."""
        members = dict(self.members)
        for member_id in member_ids:
            members[member_id] = replace(members[member_id], last_heartbeat=now)
        return replace(self, members=members)

    def expired(self, now: float, session_timeout: float) -> set[str]:
        """Ids of the members whose session has timed out."""
        return {mid for mid, m in self.members.items() if m.is_expired(now, session_timeout)}

    def shared(self, partitions: int) -> GroupState:
        """This state as an unordered subscription's group is reported: every member owns
        every partition (no assignment is kept for it)."""
        everything = tuple(range(partitions))
        return replace(self, assignment=dict.fromkeys(self.members, everything))

    def owner_of(self, partition: int) -> str | None:
        """The member that owns ``partition``, if any."""
        for member_id, owned in self.assignment.items():
            if partition in owned:
                return member_id
        return None

    def _rebalanced(self, members: Mapping[str, Member], partitions: int) -> GroupState:
        assignment = assign_partitions(partitions, members.keys(), self.assignment)
        return GroupState(self.subscription, self.generation + 1, members, assignment)
