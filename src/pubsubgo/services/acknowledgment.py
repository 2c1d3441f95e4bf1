"""AckService: ack, nack and extend deliveries, and redeliver those past their deadline."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pubsubgo.core.errors import InvalidArgument
from pubsubgo.core.messages import AckId
from pubsubgo.core.subscriptions import (
    MAX_ACK_DEADLINE_SECONDS,
    InFlight,
    Release,
    Subscription,
)
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.in_flight import InFlightLedger
from pubsubgo.ports.metrics import BrokerMetrics
from pubsubgo.ports.subscriptions import SubscriptionRegistry
from pubsubgo.services.dead_letters import DeadLetterService
from pubsubgo.services.waiting import WaitingRoom

#: One sweep handles at most this many overdue deliveries per subscription, so that a huge
#: backlog of expiries cannot stall the other background duties.
SWEEP_BATCH = 1000
#: DESIGN §3: an ack, nack or extend names at most this many deliveries.
MAX_ACK_IDS = 10_000


@dataclass(frozen=True, slots=True)
class AckResult:
    """How many deliveries an ack, nack or extend affected, and the ack ids it did not know."""

    count: int
    unknown: tuple[AckId, ...]


class AckService:
    """Settles deliveries and applies the redelivery rules."""

    def __init__(
        self,
        subscriptions: SubscriptionRegistry,
        in_flight: InFlightLedger,
        dead_letters: DeadLetterService,
        waiting: WaitingRoom,
        clock: Clock,
        metrics: BrokerMetrics,
    ) -> None:
        self._subscriptions = subscriptions
        self._in_flight = in_flight
        self._dead_letters = dead_letters
        self._waiting = waiting
        self._clock = clock
        self._metrics = metrics

    async def ack(self, subscription: str, ack_ids: Sequence[AckId]) -> AckResult:
        """Acknowledge deliveries. Unknown, already acked or refused ack ids are reported.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        _check_ack_ids(ack_ids)
        sub = await self._subscriptions.get(subscription)
        now = self._clock.now()
        result = await self._in_flight.settle(subscription, ack_ids, now)
        ages = [now - published for published in result.published_at]
        self._metrics.acked(sub.topic, subscription, ages)
        self._freed(sub)
        return AckResult(len(result.settled), result.unknown)

    async def nack(
        self, subscription: str, ack_ids: Sequence[AckId], delay_seconds: float | None = None
    ) -> AckResult:
        """Give deliveries back: redelivered after ``delay_seconds`` or the retry backoff.

        A delivery that was the last allowed attempt goes to the dead-letter topic instead.

        Raises:
            SubscriptionNotFound: no such subscription.
            InvalidArgument: ``delay_seconds`` is negative or over 600.
        """
        _check_ack_ids(ack_ids)
        if delay_seconds is not None and not 0 <= delay_seconds <= MAX_ACK_DEADLINE_SECONDS:
            raise InvalidArgument("delay_seconds must be 0..600", field="delay_seconds")
        sub = await self._subscriptions.get(subscription)
        deliveries = await self._in_flight.lookup(subscription, ack_ids)
        await self._give_back(sub, deliveries, delay_seconds)
        found = {d.ack_id for d in deliveries}
        self._metrics.nacked(sub.topic, subscription, len(found))
        self._freed(sub)
        return AckResult(len(found), tuple(a for a in ack_ids if a not in found))

    async def extend(
        self, subscription: str, ack_ids: Sequence[AckId], seconds: float
    ) -> AckResult:
        """Push the deadline of deliveries to ``seconds`` from now.

        Raises:
            SubscriptionNotFound: no such subscription.
            InvalidArgument: ``seconds`` is not 0..600.
        """
        _check_ack_ids(ack_ids)
        if not 0 <= seconds <= MAX_ACK_DEADLINE_SECONDS:
            raise InvalidArgument("seconds must be 0..600", field="seconds")
        await self._subscriptions.get(subscription)
        deadline = self._clock.now() + seconds
        unknown = await self._in_flight.extend(subscription, ack_ids, deadline)
        return AckResult(len(ack_ids) - len(unknown), tuple(unknown))

    async def still_in_flight(self, subscription: str, ack_ids: Sequence[AckId]) -> set[AckId]:
        """The ack ids among ``ack_ids`` whose deliveries are still awaiting their ack (a
        consumer uses it to learn which of its deliveries the broker took back)."""
        return {d.ack_id for d in await self._in_flight.lookup(subscription, ack_ids)}

    async def release_member(self, subscription: str, member_id: str | None) -> int:
        """Make everything ``member_id`` holds deliverable to others at once (it went away)."""
        held = await self._in_flight.held(subscription, member_id)
        return await self._release_now(subscription, held)

    async def release_partitions(self, subscription: str, partitions: Sequence[int]) -> int:
        """Make in-flight deliveries of ``partitions`` deliverable at once (new owners)."""
        if not partitions:
            return 0
        held = await self._in_flight.held(subscription, None, partitions)
        return await self._release_now(subscription, held)

    async def redeliver_overdue(self) -> int:
        """Background duty: deliveries past their deadline go back after the retry backoff
        (or to the dead-letter topic after the last attempt). Returns how many."""
        handled = 0
        now = self._clock.now()
        for sub in await self._subscriptions.list():
            overdue = await self._in_flight.overdue(sub.name, now, SWEEP_BATCH)
            await self._give_back(sub, overdue, None)
            handled += len(overdue)
        return handled

    async def _give_back(
        self, sub: Subscription, deliveries: Sequence[InFlight], delay: float | None
    ) -> None:
        exhausted = [d for d in deliveries if sub.exhausted(d.attempt)]
        retried = [d for d in deliveries if not sub.exhausted(d.attempt)]
        await self._dead_letters.dead_letter(sub, exhausted)
        if not retried:
            return
        now = self._clock.now()
        releases = [
            Release(
                d.ack_id,
                now + (delay if delay is not None else sub.retry_policy.backoff(d.attempt)),
            )
            for d in retried
        ]
        await self._in_flight.release(sub.name, releases)
        self._waiting.notify_at(sub.topic, {r.due_at for r in releases}, sub.name)

    async def _release_now(self, subscription: str, held: Sequence[InFlight]) -> int:
        if not held:
            return 0
        now = self._clock.now()
        released = await self._in_flight.release(
            subscription, [Release(d.ack_id, now) for d in held]
        )
        sub = await self._subscriptions.get(subscription)
        self._waiting.notify(sub.topic, subscription)
        return len(released)

    def _freed(self, sub: Subscription) -> None:
        """Deliveries of ``sub`` were settled: in an ordered subscription the next message
        of their keys may be deliverable now (to the subscription's pulls anywhere); pulls
        of this process held back by ``max_in_flight`` may take more."""
        if sub.ordered:
            self._waiting.notify(sub.topic, sub.name)
        else:
            self._waiting.settled(sub.name, sub.topic)


def _check_ack_ids(ack_ids: Sequence[AckId]) -> None:
    if len(ack_ids) > MAX_ACK_IDS:
        raise InvalidArgument(f"at most {MAX_ACK_IDS} ack ids at once", field="ack_ids")
