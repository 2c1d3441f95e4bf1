"""RedisInFlightLedger: settles, extends and releases in-flight deliveries in Redis."""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from typing import Any

from pubsubgo.adapters.redis import keys
from pubsubgo.adapters.redis.codec import in_flight_from_record, partition_of_ack
from pubsubgo.adapters.redis.definitions import Definitions
from pubsubgo.adapters.redis.errors import translate_redis_errors
from pubsubgo.adapters.redis.layout import Layout
from pubsubgo.adapters.redis.scripts import Call, ScriptRunner
from pubsubgo.core.errors import SubscriptionNotFound
from pubsubgo.core.messages import AckId
from pubsubgo.core.subscriptions import InFlight, Release, SettleResult, Subscription


class RedisInFlightLedger:
    """InFlightLedger on Redis.

    Ack ids are ``"<partition>.<hex>"``: the partition names the slot group whose hash holds
    the delivery's record, so a batch of N ack ids is one script call per slot group (one
    call in all for a co-located topic), pipelined: one round trip.
    """

    def __init__(self, runner: ScriptRunner, definitions: Definitions) -> None:
        self._runner = runner
        self._definitions = definitions

    async def settle(
        self, subscription: str, ack_ids: Sequence[AckId], now: float, force: bool = False
    ) -> SettleResult:
        found = await self._definition(subscription)
        if found is None:
            return SettleResult((), tuple(ack_ids), ())
        sub, layout = found
        flags = [repr(now), "1" if force else "0", "1" if sub.ordered else "0"]
        outcomes = await self._per_ack("settle", layout, subscription, flags, ack_ids)
        settled = [(a, float(o)) for a, o in zip(ack_ids, outcomes, strict=True) if o is not None]
        unknown = tuple(a for a, o in zip(ack_ids, outcomes, strict=True) if o is None)
        return SettleResult(
            tuple(a for a, _ in settled), unknown, tuple(published for _, published in settled)
        )

    async def lookup(self, subscription: str, ack_ids: Sequence[AckId]) -> list[InFlight]:
        found = await self._definition(subscription)
        if found is None:
            return []
        _, layout = found
        by_group = _by_group(layout, ack_ids)
        with translate_redis_errors("look up deliveries"):
            pipe = self._runner.client.pipeline(transaction=False)
            for group, (_, acks) in by_group.items():
                pipe.hmget(_part(layout, group, subscription, "inf"), acks)
            rows: list[list[Any]] = await pipe.execute()
        records = {
            ack: raw
            for (_, acks), row in zip(by_group.values(), rows, strict=True)
            for ack, raw in zip(acks, row, strict=True)
            if raw is not None
        }
        return [
            in_flight_from_record(a, records[a]) for a in dict.fromkeys(ack_ids) if a in records
        ]

    async def overdue(self, subscription: str, now: float, limit: int) -> list[InFlight]:
        found = await self._definition(subscription)
        if found is None:
            return []
        _, layout = found
        calls: list[Call] = [
            ([layout.anchor(g)], [layout.prefix(g), subscription, str(g), repr(now), str(limit)])
            for g in layout.all_groups()
        ]
        with translate_redis_errors("find overdue deliveries"):
            replies = await self._runner.run("overdue", calls)
        per_group = (
            [in_flight_from_record(r[i], r[i + 1]) for i in range(0, len(r), 2)] for r in replies
        )
        return list(heapq.merge(*per_group, key=lambda d: d.deadline))[:limit]

    async def held(
        self, subscription: str, member_id: str | None, partitions: Sequence[int] | None = None
    ) -> list[InFlight]:
        found = await self._definition(subscription)
        if found is None:
            return []
        _, layout = found
        groups = list(layout.all_groups() if partitions is None else layout.groups(partitions))
        with translate_redis_errors("list held deliveries"):
            pipe = self._runner.client.pipeline(transaction=False)
            for group in groups:
                pipe.hgetall(_part(layout, group, subscription, "inf"))
            tables: list[dict[bytes, bytes]] = await pipe.execute()
        records = [in_flight_from_record(a, raw) for t in tables for a, raw in t.items()]
        if partitions is not None:
            wanted = set(partitions)
            return [r for r in records if r.partition in wanted]
        return [r for r in records if r.member_id == member_id]

    async def release(self, subscription: str, releases: Sequence[Release]) -> list[AckId]:
        found = await self._definition(subscription)
        if found is None:
            return []
        _, layout = found
        acks = [r.ack_id for r in releases]
        due = [repr(r.due_at) for r in releases]
        outcomes = await self._per_ack("release", layout, subscription, ["0"], acks, due)
        return [a for a, released in zip(acks, outcomes, strict=True) if released]

    async def extend(
        self, subscription: str, ack_ids: Sequence[AckId], deadline: float
    ) -> list[AckId]:
        found = await self._definition(subscription)
        if found is None:
            return list(ack_ids)
        _, layout = found
        outcomes = await self._per_ack("extend", layout, subscription, [repr(deadline)], ack_ids)
        return [a for a, extended in zip(ack_ids, outcomes, strict=True) if not extended]

    async def _definition(self, subscription: str) -> tuple[Subscription, Layout] | None:
        try:
            return await self._definitions.subscription(subscription)
        except SubscriptionNotFound:
            return None

    async def _per_ack(
        self,
        script: str,
        layout: Layout,
        subscription: str,
        flags: list[str],
        ack_ids: Sequence[AckId],
        due: list[str] | None = None,
    ) -> list[Any]:
        """Run ``script`` once per slot group with its ack ids (each followed by its due
        time when ``due`` is given); one outcome per ack id, in order, None for ack ids
        that name no slot group."""
        by_group = _by_group(layout, ack_ids)
        calls: list[Call] = []
        for group, (positions, acks) in by_group.items():
            args = [layout.prefix(group), subscription, str(group), *flags]
            if due is None:
                args += acks
            else:
                for position, ack in zip(positions, acks, strict=True):
                    args += (ack, due[position])
            calls.append(([layout.anchor(group)], args))
        with translate_redis_errors(script):
            replies = await self._runner.run(script, calls)
        outcomes: list[Any] = [None] * len(ack_ids)
        for (positions, _), reply in zip(by_group.values(), replies, strict=True):
            for position, outcome in zip(positions, reply, strict=True):
                outcomes[position] = outcome
        return outcomes


def _by_group(layout: Layout, ack_ids: Sequence[AckId]) -> dict[int, tuple[list[int], list[str]]]:
    """Ack ids by slot group, with their positions in ``ack_ids``; malformed ones left out."""
    grouped: dict[int, tuple[list[int], list[str]]] = {}
    for position, ack in enumerate(ack_ids):
        partition = partition_of_ack(ack)
        if partition is not None and partition < layout.partitions:
            positions, acks = grouped.setdefault(layout.group_of(partition), ([], []))
            positions.append(position)
            acks.append(ack)
    return grouped


def _part(layout: Layout, group: int, subscription: str, part: str) -> str:
    return keys.sub_part(layout.prefix(group), group, subscription, part)
