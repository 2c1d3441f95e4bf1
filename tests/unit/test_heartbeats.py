"""One heartbeat timer per process, driven by a hand-moved clock."""

from __future__ import annotations

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.groups import GroupSettings
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.runtime.heartbeats import Heartbeats
from pubsubgo.runtime.membership import MemberLease
from pubsubgo.services.broker import Broker
from tests.broker_process import eventually

INTERVAL = 3.0
SESSION = 15.0


async def _broker(clock: ManualClock) -> Broker:
    broker = build_broker(memory_storage(), clock, group_settings=GroupSettings(INTERVAL, SESSION))
    await broker.topics.create(Topic("orders", partitions=2))
    for name in ("billing", "shipping"):
        await broker.subscriptions.create(Subscription(name, "orders"))
    return broker


class TestHeartbeats:
    async def test_every_member_of_a_process_beats_on_one_timer(self) -> None:
        clock = ManualClock()
        broker = await _broker(clock)
        leases = [MemberLease(broker.groups, name) for name in ("billing", "billing", "shipping")]
        for lease in leases:
            await lease.__aenter__()
        joined_at = clock.now()

        # When the interval passes, by the clock
        clock.advance(INTERVAL)

        # Then every member has beaten at the new time, and none has expired since
        async def beaten() -> bool | None:
            groups = [await broker.groups.describe(n) for n in ("billing", "shipping")]
            beats = [m.last_heartbeat for g in groups for m in g.members.values()]
            return True if all(b == joined_at + INTERVAL for b in beats) else None

        await eventually(beaten, "a heartbeat of every member", deadline=2)
        clock.advance(SESSION - INTERVAL)
        evicted = await broker.groups.evict_expired()
        for lease in leases:
            await lease.__aexit__(None, None, None)
        assert evicted == 0

    async def test_a_member_that_leaves_stops_beating(self) -> None:
        clock = ManualClock()
        broker = await _broker(clock)
        staying = MemberLease(broker.groups, "billing")
        leaving = MemberLease(broker.groups, "billing")
        await staying.__aenter__()
        await leaving.__aenter__()

        await leaving.__aexit__(None, None, None)
        beats = await Heartbeats.of(broker.groups).beat()

        group = await broker.groups.describe("billing")
        stayed = staying.member_id
        await staying.__aexit__(None, None, None)
        assert beats is False  # no call failed
        assert set(group.members) == {stayed}
