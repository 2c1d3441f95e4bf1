"""GroupService: consumer-group membership, heartbeats, eviction and rebalancing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pubsubgo.core.assignment import moved_partitions
from pubsubgo.core.errors import GenerationConflict, MemberNotFound, SubscriptionNotFound
from pubsubgo.core.groups import GroupSettings, GroupState, Member
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.groups import GroupStore
from pubsubgo.ports.metrics import BrokerMetrics
from pubsubgo.ports.subscriptions import SubscriptionRegistry
from pubsubgo.ports.topics import TopicRegistry
from pubsubgo.services.acknowledgment import AckService
from pubsubgo.services.rebalancing import Batch, Rebalanced, Settler
from pubsubgo.services.waiting import WaitingRoom

logger = logging.getLogger(__name__)

#: A membership change that keeps losing the generation race after this many tries is
#: reported as a conflict rather than retried for ever.
MAX_UPDATE_ATTEMPTS = 8


@dataclass(frozen=True, slots=True)
class Membership:
    """What a member needs to know: its generation and the partitions it receives from."""

    member_id: str
    generation: int
    assignment: tuple[int, ...]
    heartbeat_interval_seconds: float
    session_timeout_seconds: float


class GroupService:
    """Runs the consumer group of each subscription."""

    def __init__(
        self,
        topics: TopicRegistry,
        subscriptions: SubscriptionRegistry,
        groups: GroupStore,
        acks: AckService,
        clock: Clock,
        metrics: BrokerMetrics,
        settings: GroupSettings | None = None,
        waiting: WaitingRoom | None = None,
    ) -> None:
        self._topics = topics
        self._subscriptions = subscriptions
        self._groups = groups
        self._acks = acks
        self._clock = clock
        self._metrics = metrics
        self.settings = settings or GroupSettings()
        self._waiting = waiting
        self._settler = Settler(clock, self.settings.rebalance_settle_seconds, self._apply)

    @property
    def clock(self) -> Clock:
        """The clock the group's timing rules (heartbeats, sessions) are measured by."""
        return self._clock

    async def join(self, subscription: str, member_id: str | None = None) -> Membership:
        """Add a member (a new id unless one is given) and rebalance.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        sub = await self._subscriptions.get(subscription)
        partitions = (await self._topics.get(sub.topic)).partitions
        member_id = member_id or uuid.uuid4().hex
        now = self._clock.now()
        member = Member(member_id, joined_at=now, last_heartbeat=now)
        changed = await self._settler.join(sub.name, member)
        return self._membership(sub, changed.after, member_id, partitions)

    async def heartbeat(self, subscription: str, member_id: str) -> Membership:
        """Keep a member alive; returns its current generation and assignment.

        Raises:
            SubscriptionNotFound: no such subscription.
            MemberNotFound: the member left or was evicted; it must join again.
        """
        membership = (await self.heartbeats(subscription, [member_id]))[member_id]
        if membership is None:
            raise MemberNotFound(subscription, member_id)
        return membership

    async def heartbeats(
        self, subscription: str, member_ids: Sequence[str]
    ) -> dict[str, Membership | None]:
        """Keep several members alive at once (one storage round trip or two for all);
        each one's membership, or None for those no longer in the group.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        sub = await self._subscriptions.get(subscription)
        partitions = (await self._topics.get(sub.topic)).partitions
        for _ in range(MAX_UPDATE_ATTEMPTS):
            state = await self._groups.load(subscription)
            present = [m for m in member_ids if m in state.members]
            if present:
                try:
                    await self._groups.save(
                        state.heartbeats(present, self._clock.now()), state.generation
                    )
                except GenerationConflict:
                    continue
            return {
                m: self._membership(sub, state, m, partitions) if m in state.members else None
                for m in member_ids
            }
        raise GenerationConflict(f"group of {subscription!r} is changing too fast")

    async def leave(self, subscription: str, member_id: str) -> None:
        """Remove a member; what it held is delivered to others at once.

        Raises:
            SubscriptionNotFound: no such subscription.
            MemberNotFound: the member is not in the group.
        """
        await self._subscriptions.get(subscription)
        changed = await self._settler.leave(subscription, {member_id})
        if not changed.knew(member_id):
            raise MemberNotFound(subscription, member_id)

    async def describe(self, subscription: str) -> GroupState:
        """The group's current state; in an unordered subscription each member's
        assignment is every partition (they share them all).

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        sub = await self._subscriptions.get(subscription)
        state = await self._groups.load(subscription)
        if sub.ordered:
            return state
        return state.shared((await self._topics.get(sub.topic)).partitions)

    async def evict_expired(self) -> int:
        """Background duty: remove members whose session timed out; returns how many."""
        evicted = 0
        now = self._clock.now()
        for sub in await self._subscriptions.list():
            state = await self._groups.load(sub.name)
            expired = state.expired(now, self.settings.session_timeout_seconds)
            if expired:
                logger.info("evicting %d member(s) of %s", len(expired), sub.name)
                await self._settler.leave(sub.name, expired)
                evicted += len(expired)
        return evicted

    async def _apply(self, subscription: str, batch: Batch) -> Rebalanced:
        """One settle window's joins and leaves as one generation; what the leavers held
        is handed to the others at once."""
        sub = await self._subscriptions.get(subscription)
        partitions = (await self._topics.get(sub.topic)).partitions
        joins, leaves = list(batch.joins.values()), batch.leaves

        def change(state: GroupState) -> GroupState:
            if not joins and not leaves & state.members.keys():
                return state  # only strangers left: nothing to do
            return state.changed(joins, leaves, partitions, assign=sub.ordered)

        changed = await self._change(sub, change)
        gone = [m for m in leaves if changed.knew(m)]
        await asyncio.gather(*(self._acks.release_member(sub.name, m) for m in gone))
        if not sub.durable and not changed.after.members:
            # DESIGN §2: a non-durable subscription lives as long as its consumers.
            with contextlib.suppress(SubscriptionNotFound):
                await self._subscriptions.delete(sub.name)
        return changed

    async def _change(
        self, sub: Subscription, change: Callable[[GroupState], GroupState]
    ) -> Rebalanced:
        """Apply a membership change to the latest generation, then hand revoked partitions over."""
        for _ in range(MAX_UPDATE_ATTEMPTS):
            before = await self._groups.load(sub.name)
            after = change(before)
            if after is before:
                return Rebalanced(before, after)
            try:
                await self._groups.save(after, before.generation)
            except GenerationConflict:
                continue
            self._metrics.rebalanced(sub.name, len(after.members))
            if sub.ordered:
                revoked = _revoked(before, after)
                await self._acks.release_partitions(sub.name, sorted(revoked))
                if self._waiting is not None:
                    # This process's waiting pulls read their partitions again at once;
                    # other processes' at their next recheck.
                    self._waiting.rebalanced(sub.topic, sub.name)
            return Rebalanced(before, after)
        raise GenerationConflict(f"group of {sub.name!r} is changing too fast")

    def _membership(
        self, sub: Subscription, state: GroupState, member_id: str, partitions: int
    ) -> Membership:
        # Members of an unordered subscription share every partition.
        owned = state.assignment.get(member_id, ()) if sub.ordered else tuple(range(partitions))
        return Membership(
            member_id=member_id,
            generation=state.generation,
            assignment=owned,
            heartbeat_interval_seconds=self.settings.heartbeat_interval_seconds,
            session_timeout_seconds=self.settings.session_timeout_seconds,
        )


def _revoked(before: GroupState, after: GroupState) -> set[int]:
    """Partitions that had an owner before and have a different one (or none) now."""
    owned_before = {p for parts in before.assignment.values() for p in parts}
    return moved_partitions(before.assignment, after.assignment) & owned_before
