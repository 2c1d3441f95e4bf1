"""Settling: the membership changes of one process, applied a batch per settle window."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from pubsubgo.core.groups import GroupState, Member
from pubsubgo.ports.clock import Clock


@dataclass(frozen=True, slots=True)
class Rebalanced:
    """What one batch of changes did to a group."""

    before: GroupState
    after: GroupState

    def knew(self, member_id: str) -> bool:
        """Whether ``member_id`` was a member before the batch."""
        return member_id in self.before.members


@dataclass(slots=True)
class Batch:
    """Joins and leaves of one group waiting for the end of their settle window."""

    joins: dict[str, Member] = field(default_factory=dict)
    leaves: set[str] = field(default_factory=set)
    done: asyncio.Future[Rebalanced] | None = None


#: Applies a batch to one subscription's group and says what it did.
Apply = Callable[[str, Batch], Awaitable[Rebalanced]]


class Settler:
    """Collects membership changes per subscription and applies each group's at most once
    per ``window`` seconds: the first change of a quiet group goes out on the next loop
    turn, those that follow within the window wait for its end and go out together.

    Args:
        clock: times the windows.
        window: the settle window in seconds.
        apply: applies a batch (a storage round trip or two).
    """

    def __init__(self, clock: Clock, window: float, apply: Apply) -> None:
        self._clock = clock
        self._window = window
        self._apply = apply
        self._batches: dict[str, Batch] = {}
        self._last: dict[str, float] = {}
        self._running: dict[str, asyncio.Task[None]] = {}

    async def join(self, subscription: str, member: Member) -> Rebalanced:
        batch = self._batch(subscription)
        batch.leaves.discard(member.id)
        batch.joins[member.id] = member
        return await self._outcome(batch)

    async def leave(self, subscription: str, member_ids: set[str]) -> Rebalanced:
        batch = self._batch(subscription)
        batch.leaves |= member_ids
        return await self._outcome(batch)

    def _batch(self, subscription: str) -> Batch:
        batch = self._batches.get(subscription)
        if batch is None:
            batch = self._batches[subscription] = Batch()
            batch.done = asyncio.get_running_loop().create_future()
            since = self._clock.monotonic() - self._last.get(subscription, -self._window)
            wait = max(0.0, self._window - since)
            self._clock.call_later(wait, lambda: self._flush(subscription, batch))
        return batch

    @staticmethod
    async def _outcome(batch: Batch) -> Rebalanced:
        assert batch.done is not None
        # Shielded: one caller giving up must not cancel the batch of the others.
        return await asyncio.shield(batch.done)

    def _flush(self, subscription: str, batch: Batch) -> None:
        if self._batches.get(subscription) is batch:
            del self._batches[subscription]
        self._last[subscription] = self._clock.monotonic()
        self._forget_quiet_groups()
        before = self._running.get(subscription)
        task = asyncio.get_running_loop().create_task(self._run(subscription, batch, before))
        self._running[subscription] = task
        task.add_done_callback(lambda t: self._ran(subscription, t))

    async def _run(
        self, subscription: str, batch: Batch, before: asyncio.Task[None] | None
    ) -> None:
        assert batch.done is not None
        if before is not None:
            # One batch of a group at a time: they would only race for its generation.
            with contextlib.suppress(BaseException):
                await asyncio.shield(before)
        try:
            outcome = await self._apply(subscription, batch)
        except BaseException as error:
            if not batch.done.done():
                batch.done.set_exception(error)
            if not isinstance(error, Exception):
                raise
            return
        if not batch.done.done():
            batch.done.set_result(outcome)

    def _ran(self, subscription: str, task: asyncio.Task[None]) -> None:
        if self._running.get(subscription) is task:
            del self._running[subscription]

    def _forget_quiet_groups(self) -> None:
        """Drop the last-change times older than a window: they no longer delay anything."""
        if len(self._last) > 2 * len(self._batches) + 64:
            cutoff = self._clock.monotonic() - self._window
            self._last = {s: t for s, t in self._last.items() if t > cutoff}
