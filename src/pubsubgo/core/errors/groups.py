"""Errors about a subscription's consumer group."""

from __future__ import annotations

from pubsubgo.core.errors.base import ErrorKind, PubSubError


class GroupError(PubSubError):
    """Base of the errors about a subscription's consumer group."""


class MemberNotFound(GroupError):
    """Raised when a member id is unknown to its group (never joined, left or evicted)."""

    code = "member_not_found"
    kind = ErrorKind.NOT_FOUND

    def __init__(self, subscription: str, member_id: str) -> None:
        super().__init__(f"member {member_id!r} is not in the group of {subscription!r}")
        self.subscription = subscription
        self.member_id = member_id

    def details(self) -> dict[str, object]:
        return {"subscription": self.subscription, "member_id": self.member_id}


class GenerationConflict(GroupError):
    """Raised when a group changed under a writer; the caller re-reads and tries again."""

    code = "generation_conflict"
    kind = ErrorKind.CONFLICT
