"""Consumer groups: the members of a subscription and which partitions each one owns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from pubsubgo.core.assignment import assign_partitions


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """Broker-wide timing of group membership."""

    heartbeat_interval_seconds: float = 3.0
    session_timeout_seconds: float = 15.0


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

    def heartbeat(self, member_id: str, now: float) -> GroupState:
        """The same generation with the member's heartbeat refreshed."""
        member = replace(self.members[member_id], last_heartbeat=now)
        return replace(self, members={**self.members, member_id: member})

    def expired(self, now: float, session_timeout: float) -> set[str]:
        """Ids of the members whose session has timed out."""
        return {mid for mid, m in self.members.items() if m.is_expired(now, session_timeout)}

    def owner_of(self, partition: int) -> str | None:
        """The member that owns ``partition``, if any."""
        for member_id, owned in self.assignment.items():
            if partition in owned:
                return member_id
        return None

    def _rebalanced(self, members: Mapping[str, Member], partitions: int) -> GroupState:
        assignment = assign_partitions(partitions, members.keys(), self.assignment)
        return GroupState(self.subscription, self.generation + 1, members, assignment)
