"""MemberLease: one consumer's membership of a group, kept alive while it runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from types import TracebackType

from pubsubgo.core.errors import MemberNotFound, SubscriptionNotFound
from pubsubgo.runtime.heartbeats import Heartbeats
from pubsubgo.services.groups import GroupService, Membership

OnChange = Callable[[Membership], Awaitable[None]]


class MemberLease:
    """Joins a subscription's group, heartbeats while in use, and leaves on exit.

    Its heartbeats go out with those of every other member of the process
    (:class:`Heartbeats`). A member that the group expelled (a missed session) joins again
    as a new member; ``on_change`` hears of every new member id or assignment (not of a
    new generation that leaves this member's partitions as they were).

    Args:
        groups: the group service.
        subscription: the subscription whose group to join.
        on_change: awaited with the new membership after a rebalance or a rejoin.
    """

    def __init__(
        self, groups: GroupService, subscription: str, on_change: OnChange | None = None
    ) -> None:
        self._groups = groups
        self._subscription = subscription
        self._on_change = on_change
        self._membership: Membership | None = None
        self._heartbeats = Heartbeats.of(groups)
        #: The heartbeat and the consumer may both find the member expelled; one rejoins.
        self._rejoining = asyncio.Lock()

    @property
    def membership(self) -> Membership:
        """The latest membership; only inside ``async with``."""
        if self._membership is None:
            raise RuntimeError("the lease is not held")
        return self._membership

    @property
    def subscription(self) -> str:
        """The subscription whose group this is."""
        return self._subscription

    @property
    def member_id(self) -> str:
        """The member id in use."""
        return self.membership.member_id

    async def __aenter__(self) -> MemberLease:
        self._membership = await self._groups.join(self._subscription)
        self._heartbeats.add(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._heartbeats.discard(self)
        if self._membership is not None:
            # Leaving hands what this member held to the others at once.
            with contextlib.suppress(MemberNotFound, SubscriptionNotFound):
                await self._groups.leave(self._subscription, self._membership.member_id)
            self._membership = None

    async def rejoin(self, expelled: str) -> Membership:
        """Join again under a new id after the group expelled member ``expelled``.

        Does nothing if that already happened; tells ``on_change`` otherwise.
        """
        async with self._rejoining:
            if self.member_id == expelled:
                await self._changed(await self._groups.join(self._subscription))
            return self.membership

    async def beaten(self, membership: Membership | None) -> None:
        """The answer to a heartbeat: the membership, or None once expelled."""
        if self._membership is None:
            return  # left meanwhile
        if membership is None:
            await self.rejoin(self.member_id)
        else:
            await self._changed(membership)

    async def _changed(self, membership: Membership) -> None:
        before = self._membership
        self._membership = membership
        moved = before is None or (
            before.member_id != membership.member_id or before.assignment != membership.assignment
        )
        if moved and self._on_change is not None:
            await self._on_change(membership)
