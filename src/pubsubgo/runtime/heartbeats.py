"""Heartbeats: one timer for every member this process keeps alive."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import defaultdict
from typing import Protocol

from pubsubgo.core.errors import BackendUnavailable, SubscriptionNotFound
from pubsubgo.services.groups import GroupService, Membership

logger = logging.getLogger(__name__)

#: After a heartbeat fails for another reason than expulsion (storage down), the next one
#: comes after this fraction of an interval: soon enough that a short outage does not cost
#: the membership, slow enough not to hammer a struggling backend.
HEARTBEAT_RETRY_FRACTION = 0.5


class Beating(Protocol):
    """A member kept alive by :class:`Heartbeats`."""

    @property
    def subscription(self) -> str: ...

    @property
    def member_id(self) -> str: ...

    async def beaten(self, membership: Membership | None) -> None:
        """Hear the heartbeat's answer: the membership, or None when the group no longer
        knows the member."""
        ...


class Heartbeats:
    """Heartbeats every member of one process with a single task: each interval, one call
    per subscription for all of its members here, so that thousands of sockets cost a few
    storage calls per interval rather than a task and two calls each.

    Args:
        groups: the group service the members belong to.
    """

    _of: weakref.WeakKeyDictionary[GroupService, Heartbeats] = weakref.WeakKeyDictionary()

    def __init__(self, groups: GroupService) -> None:
        self._groups = groups
        self._members: set[Beating] = set()
        self._task: asyncio.Task[None] | None = None

    @classmethod
    def of(cls, groups: GroupService) -> Heartbeats:
        """The heartbeats of ``groups``' members (one per broker)."""
        found = cls._of.get(groups)
        if found is None:
            found = cls._of[groups] = cls(groups)
        return found

    def add(self, member: Beating) -> None:
        """Keep ``member`` alive from the next beat on."""
        self._members.add(member)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="heartbeats")

    def discard(self, member: Beating) -> None:
        """Stop keeping ``member`` alive."""
        self._members.discard(member)

    async def _run(self) -> None:
        interval = self._groups.settings.heartbeat_interval_seconds
        delay = interval
        while self._members:
            await self._sleep(delay)
            failed = await self.beat()
            delay = interval * HEARTBEAT_RETRY_FRACTION if failed else interval

    async def _sleep(self, seconds: float) -> None:
        """Wait ``seconds`` by the group's clock (a hand-driven one in tests)."""
        woken = asyncio.get_running_loop().create_future()
        timer = self._groups.clock.call_later(seconds, lambda: _wake(woken))
        try:
            await woken
        finally:
            timer.cancel()

    async def beat(self) -> bool:
        """One heartbeat for every member; True if one of the calls failed."""
        by_subscription: dict[str, list[Beating]] = defaultdict(list)
        for member in list(self._members):
            by_subscription[member.subscription].append(member)
        results = await asyncio.gather(
            *(self._beat(name, members) for name, members in by_subscription.items())
        )
        return not all(results)

    async def _beat(self, subscription: str, members: list[Beating]) -> bool:
        try:
            found = await self._groups.heartbeats(subscription, [m.member_id for m in members])
        except SubscriptionNotFound:
            for member in members:
                self.discard(member)  # the consumer learns it from its next pull
            return True
        except BackendUnavailable as error:
            # Debug only: the background runner warns once per storage outage.
            logger.debug("heartbeat of %s failed: %s", subscription, error)
            return False
        except Exception as error:
            # Storage down: the memberships must not lapse for that, so try again soon.
            logger.warning("heartbeat of %s failed: %r", subscription, error)
            return False
        answers = [m.beaten(found[m.member_id]) for m in members if m in self._members]
        for outcome in await asyncio.gather(*answers, return_exceptions=True):
            if isinstance(outcome, Exception):
                logger.warning("a member of %s missed its heartbeat: %r", subscription, outcome)
        return True


def _wake(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)
