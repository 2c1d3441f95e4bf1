"""Membership changes settle into one generation per window, timed by a hand-moved clock."""

from __future__ import annotations

import asyncio

from pubsubgo.adapters.memory import memory_storage
from pubsubgo.containers import build_broker
from pubsubgo.core.groups import GroupSettings
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker

#: Far longer than a test runs: only the hand-moved clock ends a window.
WINDOW = 600.0


async def _broker(clock: ManualClock) -> Broker:
    settings = GroupSettings(3.0, 15.0, rebalance_settle_seconds=WINDOW)
    broker = build_broker(memory_storage(), clock, group_settings=settings)
    await broker.topics.create(Topic("orders", partitions=4))
    await broker.subscriptions.create(Subscription("billing", "orders", ordered=True))
    return broker


async def _turns() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


class TestSettleWindow:
    async def test_the_first_change_of_a_quiet_group_is_applied_at_once(self) -> None:
        broker = await _broker(ManualClock())

        first = await asyncio.wait_for(broker.groups.join("billing"), timeout=1)

        assert first.generation == 1

    async def test_changes_within_the_window_wait_for_its_end_and_make_one_generation(
        self,
    ) -> None:
        clock = ManualClock()
        broker = await _broker(clock)
        first = await broker.groups.join("billing")

        joining = [asyncio.create_task(broker.groups.join("billing")) for _ in range(3)]
        leaving = asyncio.create_task(broker.groups.leave("billing", first.member_id))
        await _turns()
        waited = not any(t.done() for t in [*joining, leaving])
        clock.advance(WINDOW)
        joined = await asyncio.gather(*joining)
        await leaving

        group = await broker.groups.describe("billing")
        assert waited
        assert {m.generation for m in joined} == {2}
        assert group.generation == 2
        assert set(group.members) == {m.member_id for m in joined}

    async def test_a_group_quiet_for_a_window_applies_its_next_change_at_once(self) -> None:
        clock = ManualClock()
        broker = await _broker(clock)
        await broker.groups.join("billing")

        clock.advance(WINDOW)
        second = await asyncio.wait_for(broker.groups.join("billing"), timeout=1)

        assert second.generation == 2
