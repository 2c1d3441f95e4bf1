"""RedisDeliveryQueue: claims, redelivers and repositions a subscription's messages."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from pubsubgo.adapters.redis import keys
from pubsubgo.adapters.redis.codec import message_from_entry, split_message_id, text
from pubsubgo.adapters.redis.definitions import Definitions
from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.adapters.redis.groups import load_group
from pubsubgo.adapters.redis.layout import Layout
from pubsubgo.adapters.redis.scripts import Call, ScriptRunner
from pubsubgo.adapters.redis.subscriptions import position_calls
from pubsubgo.core.errors import MemberNotFound, SubscriptionNotFound
from pubsubgo.core.messages import Delivery, MessageId
from pubsubgo.core.subscriptions import (
    Redelivery,
    StartPosition,
    Subscription,
    SubscriptionStats,
)
from pubsubgo.core.topics import Topic
from pubsubgo.ports.deliveries import SeekTarget


class RedisDeliveryQueue:
    """DeliveryQueue on Redis.

    A claim is one ``claim.lua`` call per slot group. A co-located topic is one group, so a
    pull is one call that sees every partition and the member's exact holdings, like the
    memory backend. A spread topic (cluster) reads the member's holdings first (one
    pipelined round trip), claims a share in each partition (one pipelined round trip),
    asks the partitions that filled their share for the rest (at most one more), and gives
    back what a pull smaller than the partition count got beyond its size (one more).
    """

    def __init__(self, runner: ScriptRunner, definitions: Definitions) -> None:
        self._runner = runner
        self._definitions = definitions

    async def claim(
        self,
        subscription: Subscription,
        topic: Topic,
        partitions: Sequence[int],
        limit: int,
        now: float,
        member_id: str | None,
    ) -> list[Delivery]:
        _, layout = await self._definitions.topic(topic.name)
        claim = _Claim(subscription, layout, now, member_id or "")
        groups = layout.groups(partitions)
        if not groups or limit <= 0:
            return []
        with translate_redis_errors("pull"):
            if layout.colocated and not self._runner.cluster:
                return await self._claim_on_one_node(claim, groups, limit)
            # In a cluster the group lives in another slot than the topic's keys.
            await self._check_member(claim)
            if layout.colocated:
                return self._deliveries(claim, await self._claim_group(claim, groups, limit))
            return await self._claim_spread(claim, groups, limit)

    async def _claim_on_one_node(
        self, claim: _Claim, groups: dict[int, list[int]], limit: int
    ) -> list[Delivery]:
        """One call, which also checks the member against the group's members index."""
        [reply] = await self._claim_group(claim, groups, limit, check_member=True)
        if reply[0] == b"NOMEMBER":
            raise MemberNotFound(claim.subscription.name, claim.member)
        if reply[0] == b"NOINDEX":
            # A group saved before it had an index: check it the long way, once per claim,
            # until its next change of generation writes the index.
            await self._check_member(claim)
            [reply] = await self._claim_group(claim, groups, limit)
        return self._deliveries(claim, [reply])

    async def _claim_group(
        self,
        claim: _Claim,
        groups: dict[int, list[int]],
        limit: int,
        *,
        check_member: bool = False,
    ) -> list[Any]:
        """The reply of the claim of a co-located topic (a single slot group)."""
        [(group, parts)] = groups.items()
        call = claim.call(group, parts, limit, 0, check_member=check_member)
        return await self._runner.run("claim", [call])

    async def redeliver(
        self, subscription: Subscription, entries: Sequence[Redelivery]
    ) -> list[MessageId]:
        name = subscription.name
        sub, layout = await self._definitions.subscription(name)
        by_group: dict[int, list[str]] = {}
        for entry in entries:
            parsed = split_message_id(entry.message_id)
            if parsed is None or parsed[0] >= layout.partitions:
                continue
            args = (str(parsed[0]), parsed[1], repr(entry.due_at), str(entry.attempts))
            by_group.setdefault(layout.group_of(parsed[0]), []).extend(args)
        ordered = "1" if sub.ordered else "0"
        calls: list[Call] = [
            ([layout.anchor(g)], [layout.prefix(g), name, str(g), ordered, *args])
            for g, args in by_group.items()
        ]
        with translate_redis_errors("redeliver"):
            replies = await self._runner.run("redeliver", calls)
        queued: list[MessageId] = []
        for reply in replies:
            self._check_subscription(name, reply[0])
            queued += (MessageId(text(id_)) for id_ in reply[1:])
        return queued

    async def seek(self, subscription: Subscription, target: SeekTarget) -> None:
        _, layout = await self._definitions.subscription(subscription.name)
        if target.timestamp is not None:
            calls = position_calls(layout, subscription.name, "0", "timestamp", target.timestamp)
        else:
            calls = position_calls(
                layout, subscription.name, "0", target.position or StartPosition.LATEST, 0
            )
        with translate_redis_errors("seek"):
            outcomes = await self._runner.run("position", calls)
        for outcome in outcomes:
            self._check_subscription(subscription.name, outcome)

    async def stats(self, subscription: Subscription, now: float) -> SubscriptionStats:
        name = subscription.name
        _, layout = await self._definitions.subscription(name)
        calls: list[Call] = [
            ([layout.anchor(g)], [layout.prefix(g), name, str(g), *map(str, parts)])
            for g, parts in layout.all_groups().items()
        ]
        with translate_redis_errors("subscription stats"):
            replies = await self._runner.run("sub_stats", calls)
        oldest = min((float(r[3]) for r in replies if r[3]), default=None)
        in_flight = sum(int(r[2]) for r in replies)
        scheduled = sum(int(r[1]) for r in replies)
        return SubscriptionStats(
            backlog=sum(int(r[0]) for r in replies) + scheduled + in_flight,
            in_flight=in_flight,
            scheduled=scheduled,
            oldest_unacked_age_seconds=max(0.0, now - oldest) if oldest is not None else 0.0,
        )

    async def _claim_spread(
        self, claim: _Claim, groups: dict[int, list[int]], limit: int
    ) -> list[Delivery]:
        layout, name = claim.layout, claim.subscription.name
        counts = await _holdings(self._runner, layout, name, claim.member)
        held = dict(zip(layout.all_groups(), counts, strict=True))
        budget = min(limit, claim.subscription.max_in_flight - sum(counts))
        deliveries: list[Delivery] = []
        candidates = list(groups.items())
        for _ in range(2):  # a share everywhere, then more where a share was not enough
            if len(deliveries) >= budget or not candidates:
                break
            shares = _shares(budget - len(deliveries), len(candidates))
            wanted = [(g, p, n) for (g, p), n in zip(candidates, shares, strict=True)]
            total = sum(held.values())
            calls = [claim.call(g, p, n, total - held[g]) for g, p, n in wanted]
            replies = await self._runner.run("claim", calls)
            candidates = []
            for (group, parts, share), reply in zip(wanted, replies, strict=True):
                got = self._deliveries(claim, [reply])
                held[group] += len(got)
                deliveries += got
                if len(got) == share:
                    candidates.append((group, parts))
        if len(deliveries) <= budget:
            return deliveries
        kept, extra = _fair_pick(deliveries, budget)
        await self._give_back(claim, extra)
        return kept

    async def _check_member(self, claim: _Claim) -> None:
        """Raise MemberNotFound unless the claim's member (if any) is in the group."""
        if claim.member:
            name = claim.subscription.name
            if claim.member not in (await load_group(self._runner, name)).members:
                raise MemberNotFound(name, claim.member)

    async def _give_back(self, claim: _Claim, extra: list[Delivery]) -> None:
        """Return what a pull claimed beyond its budget, as if it had never been claimed."""
        layout = claim.layout
        by_group: dict[int, list[str]] = {}
        for delivery in extra:
            group = layout.group_of(delivery.message.partition)
            by_group.setdefault(group, []).extend((delivery.ack_id, claim.now))
        calls: list[Call] = [
            ([layout.anchor(g)], [layout.prefix(g), claim.subscription.name, str(g), "1", *pairs])
            for g, pairs in by_group.items()
        ]
        await self._runner.run("release", calls)

    def _deliveries(self, claim: _Claim, replies: list[Any]) -> list[Delivery]:
        deliveries: list[Delivery] = []
        topic, name, deadline = claim.layout.topic, claim.subscription.name, claim.deadline
        add, new = deliveries.append, tuple.__new__
        for reply in replies:
            self._check_subscription(name, reply[0])
            # Five values per delivery, flat (see claim.lua): ack id, attempt, partition,
            # entry id, fields.
            values = iter(reply)
            next(values)
            for ack, attempt, partition, entry_id, flat in zip(
                values, values, values, values, values, strict=True
            ):
                message = message_from_entry(topic, partition, entry_id, flat)
                # Delivery(...) built as the tuple it is: this runs once per delivery.
                add(new(Delivery, (message, ack.decode(), attempt, name, deadline)))
        return deliveries

    def _check_subscription(self, subscription: str, status: bytes) -> None:
        if status == b"NOSUB":
            self._definitions.forget_subscription(subscription)
            raise SubscriptionNotFound(subscription)


class _Claim:
    """What every claim call of one pull shares."""

    def __init__(self, subscription: Subscription, layout: Layout, now: float, member: str):
        self.subscription = subscription
        self.layout = layout
        self.member = member
        self.now = repr(now)
        self.deadline = now + subscription.ack_deadline_seconds

    def call(
        self,
        group: int,
        partitions: list[int],
        limit: int,
        outside: int,
        *,
        check_member: bool = False,
    ) -> Call:
        """The claim.lua call for slot group ``group``; ``check_member`` (single node only)
        has the script check the member against the group's index first."""
        sub = self.subscription
        args = [self.layout.prefix(group), sub.name, self.now, repr(self.deadline), self.member]
        args += [str(limit), str(sub.max_in_flight), str(outside), "1" if sub.ordered else "0"]
        script_keys = [self.layout.anchor(group)]
        if check_member and self.member:
            script_keys.append(keys.group_members(sub.name))
        return script_keys, [*args, str(group), *map(str, partitions)]


async def _holdings(
    runner: ScriptRunner, layout: Layout, subscription: str, member: str
) -> list[int]:
    """How many deliveries ``member`` holds in each slot group, in one round trip."""
    pipe = runner.client.pipeline(transaction=False)
    for group in layout.all_groups():
        pipe.hget(keys.sub_part(layout.prefix(group), group, subscription, "own"), member)
    return [int(count or 0) for count in await pipe.execute()]


def _fair_pick(deliveries: list[Delivery], budget: int) -> tuple[list[Delivery], list[Delivery]]:
    """Keep ``budget`` deliveries taken in turn from each partition, starting at a random
    one (so small pulls do not always favour the first partitions); the rest go back."""
    by_partition: dict[int, list[Delivery]] = {}
    for delivery in deliveries:
        by_partition.setdefault(delivery.message.partition, []).append(delivery)
    queues = list(by_partition.values())
    start = random.randrange(len(queues))
    queues = queues[start:] + queues[:start]
    kept: list[Delivery] = []
    while len(kept) < budget:
        for queue in queues:
            if queue and len(kept) < budget:
                kept.append(queue.pop(0))
    return kept, [d for queue in queues for d in queue]


def _shares(budget: int, slots: int) -> list[int]:
    """``budget`` split over ``slots`` as evenly as possible, at least one each (a pull of
    fewer messages than partitions asks every partition for one and gives back the excess),
    the extra ones at a random offset so that no partition is always served first."""
    if slots == 0:
        return []
    base, extra = divmod(budget, slots)
    if base == 0:
        return [1] * slots
    offset = random.randrange(slots)
    return [base + (1 if (i - offset) % slots < extra else 0) for i in range(slots)]
