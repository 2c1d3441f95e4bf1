"""MemberLease: one consumer's membership of a group, kept alive while it runs."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType

from pubsubgo.core.errors import BackendUnavailable, MemberNotFound, SubscriptionNotFound
from pubsubgo.services.groups import GroupService, Membership

logger = logging.getLogger(__name__)

#: After a heartbeat fails for another reason than expulsion (storage down), the next one
#: comes after this fraction of an interval: soon enough that a short outage does not cost
#: the membership, slow enough not to hammer a struggling backend.
HEARTBEAT_RETRY_FRACTION = 0.5

OnChange = Callable[[Membership], Awaitable[None]]


class MemberLease:
    """Joins a subscription's group, heartbeats while in use, and leaves on exit.

    A member that the group expelled (a missed session) joins again as a new member;
    ``on_change`` hears of every new generation or member id.

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
        self._beating: asyncio.Task[None] | None = None
        #: The heartbeat and the consumer may both find the member expelled; one rejoins.
        self._rejoining = asyncio.Lock()

    @property
    def membership(self) -> Membership:
        """The latest membership; only inside ``async with``."""
        if self._membership is None:
            raise RuntimeError("the lease is not held")
        return self._membership

    @property
    def member_id(self) -> str:
        """The member id in use."""
        return self.membership.member_id

    async def __aenter__(self) -> MemberLease:
        self._membership = await self._groups.join(self._subscription)
        self._beating = asyncio.create_task(self._beat(), name=f"heartbeat {self._subscription}")
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._beating is not None:
            self._beating.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beating
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

    async def _beat(self) -> None:
        interval = self._groups.settings.heartbeat_interval_seconds
        delay = interval
        while True:
            await asyncio.sleep(delay)
            delay = interval
            try:
                await self._heartbeat()
            except SubscriptionNotFound:
                return  # the consumer learns it from its next pull
            except BackendUnavailable as error:
                # Debug only: the background runner warns once per storage outage.
                logger.debug("heartbeat of %s failed: %s", self._subscription, error)
                delay = interval * HEARTBEAT_RETRY_FRACTION
            except Exception as error:
                # Storage down, or the consumer failed to hear of a rebalance: the
                # membership must not lapse for that, so try again soon.
                logger.warning("heartbeat of %s failed: %r", self._subscription, error)
                delay = interval * HEARTBEAT_RETRY_FRACTION

    async def _heartbeat(self) -> None:
        member_id = self.member_id
        try:
            membership = await self._groups.heartbeat(self._subscription, member_id)
        except MemberNotFound:
            await self.rejoin(member_id)
            return
        await self._changed(membership)

    async def _changed(self, membership: Membership) -> None:
        before = self._membership
        self._membership = membership
        moved = before is None or (
            before.member_id != membership.member_id
            or before.generation != membership.generation
            or before.assignment != membership.assignment
        )
        if moved and self._on_change is not None:
            await self._on_change(membership)
