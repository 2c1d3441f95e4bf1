"""InMemoryInFlightLedger: settles and releases in-flight deliveries held in memory."""

from __future__ import annotations

import heapq
from collections.abc import Sequence

from pubsubgo.adapters.memory.state import MemoryState, SubscriptionState
from pubsubgo.core.messages import AckId, Delivery, DeliveryMode
from pubsubgo.core.subscriptions import InFlight, Release, SettleResult


class InMemoryInFlightLedger:
    """InFlightLedger over the shared in-memory state."""

    def __init__(self, state: MemoryState) -> None:
        self._state = state

    async def settle(
        self, subscription: str, ack_ids: Sequence[AckId], now: float, force: bool = False
    ) -> SettleResult:
        sub = self._state.subscriptions.get(subscription)
        if sub is None:
            return SettleResult((), tuple(ack_ids), ())
        settled: list[AckId] = []
        published: list[float] = []
        unknown: list[AckId] = []
        in_flight, by_member = sub.in_flight, sub.by_member
        ordered = sub.subscription.ordered
        for ack_id in ack_ids:
            holding = in_flight.get(ack_id)
            if holding is None:
                unknown.append(ack_id)
                continue
            delivery, member_id = holding
            # _too_late() inlined, its cheap half first: this loop runs once per ack.
            if not force and now > delivery.deadline and _too_late(delivery, now):
                unknown.append(ack_id)
                continue
            del in_flight[ack_id]
            by_member[member_id].discard(ack_id)
            message = delivery.message
            if ordered and message.key is not None:
                sub.queues[message.partition].release_key(message.key, now)
            settled.append(ack_id)
            published.append(message.published_at)
        return SettleResult(tuple(settled), tuple(unknown), tuple(published))

    async def lookup(self, subscription: str, ack_ids: Sequence[AckId]) -> list[InFlight]:
        sub = self._state.subscriptions.get(subscription)
        if sub is None:
            return []
        return [sub.record(sub.in_flight[a]) for a in ack_ids if a in sub.in_flight]

    async def overdue(self, subscription: str, now: float, limit: int) -> list[InFlight]:
        sub = self._state.subscriptions.get(subscription)
        if sub is None:
            return []
        found: list[InFlight] = []
        while sub.deadlines and sub.deadlines[0][0] < now and len(found) < limit:
            deadline, _, ack_ids = heapq.heappop(sub.deadlines)
            current = (sub.in_flight.get(a) for a in ack_ids)
            found.extend(
                sub.record(h) for h in current if h is not None and h[0].deadline == deadline
            )
        # They stay in flight until released, so they must stay findable too.
        for delivery in found:
            sub.watch(delivery.deadline, (delivery.ack_id,))
        return found

    async def held(
        self, subscription: str, member_id: str | None, partitions: Sequence[int] | None = None
    ) -> list[InFlight]:
        sub = self._state.subscriptions.get(subscription)
        if sub is None:
            return []
        if partitions is not None:
            wanted = set(partitions)
            holdings = [h for h in sub.in_flight.values() if h[0].message.partition in wanted]
        else:
            holdings = [sub.in_flight[a] for a in sub.by_member.get(member_id, ())]
        return [sub.record(h) for h in holdings]

    async def release(self, subscription: str, releases: Sequence[Release]) -> list[AckId]:
        sub = self._state.subscriptions.get(subscription)
        if sub is None:
            return []
        released: list[AckId] = []
        for release in releases:
            holding = sub.drop(release.ack_id)
            if holding is not None:
                delivery = holding[0]
                queue = sub.queues[delivery.message.partition]
                queue.schedule(release.due_at, delivery.message.id, delivery.delivery_attempt)
                released.append(release.ack_id)
        return released

    async def extend(
        self, subscription: str, ack_ids: Sequence[AckId], deadline: float
    ) -> list[AckId]:
        sub = self._state.subscriptions.get(subscription)
        if sub is None:
            return list(ack_ids)
        return [a for a in ack_ids if not _extend(sub, a, deadline)]


def _too_late(delivery: Delivery, now: float) -> bool:
    """An exactly-once ack after the deadline is refused: the message may be redelivered."""
    return now > delivery.deadline and delivery.message.delivery_mode is DeliveryMode.EXACTLY_ONCE


def _extend(sub: SubscriptionState, ack_id: AckId, deadline: float) -> bool:
    holding = sub.in_flight.get(ack_id)
    if holding is None:
        return False
    sub.in_flight[ack_id] = (holding[0]._replace(deadline=deadline), holding[1])
    sub.watch(deadline, (ack_id,))
    return True
