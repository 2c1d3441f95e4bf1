"""The waiting room: who claims when a topic has news, driven by a hand-moved clock."""

from __future__ import annotations

import asyncio

from pubsubgo.adapters.memory.signal import InMemorySignal
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.waiting import (
    KEEP_SECONDS,
    RECHECK_JITTER,
    RECHECK_SECONDS,
    Line,
    WaitingRoom,
)

KEY = ("sub", None, None)
#: Longer than any wait below ends by itself: a turn must come from the room.
WAIT = 60.0


class _Pulls:
    """``count`` pulls standing in one line, each recording when it got its turn."""

    def __init__(self, room: WaitingRoom, count: int) -> None:
        self.room = room
        self.line: Line = room.enter("orders", KEY)
        self.turns: list[int] = []
        self.tasks = [asyncio.create_task(self._wait(n)) for n in range(count)]

    async def _wait(self, number: int) -> None:
        await self.room.wait(self.line, WAIT)
        self.turns.append(number)

    async def settle(self) -> None:
        """Let every woken pull run."""
        for _ in range(3):
            await asyncio.sleep(0)

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def _room() -> tuple[WaitingRoom, InMemorySignal, ManualClock]:
    signal, clock = InMemorySignal(), ManualClock()
    return WaitingRoom(signal, clock), signal, clock


async def _waiting(count: int) -> tuple[WaitingRoom, InMemorySignal, ManualClock, _Pulls]:
    """A room with ``count`` pulls waiting in one line of topic ``orders``."""
    room, signal, clock = await _room()
    pulls = _Pulls(room, count)
    await pulls.settle()
    return room, signal, clock, pulls


class TestWakeUps:
    async def test_news_of_a_topic_gives_one_waiter_of_a_line_its_turn(self) -> None:
        room, signal, _, pulls = await _waiting(100)

        signal.notify("orders")
        await pulls.settle()

        assert pulls.turns == [0]
        await pulls.close()

    async def test_news_of_another_topic_wakes_nobody(self) -> None:
        room, signal, _, pulls = await _waiting(10)

        signal.notify("invoices")
        await pulls.settle()

        assert pulls.turns == []
        await pulls.close()

    async def test_news_of_one_subscription_wakes_only_its_lines(self) -> None:
        room, signal, _, pulls = await _waiting(3)  # subscription "sub"

        signal.notify("orders", "other")
        await pulls.settle()
        others = list(pulls.turns)
        signal.notify("orders", "sub")
        await pulls.settle()

        assert (others, pulls.turns) == ([], [0])
        await pulls.close()

    async def test_news_of_a_topic_skips_pulls_that_own_no_partition(self) -> None:
        room, signal, _ = await _room()
        idle = room.enter("orders", ("sub", (), None))
        owner = room.enter("orders", ("sub", (1,), None))
        idle_turn = asyncio.create_task(room.wait(idle, WAIT))
        owner_turn = asyncio.create_task(room.wait(owner, WAIT))
        await asyncio.sleep(0)

        signal.notify("orders")
        signal.notify("orders", "sub")
        await asyncio.sleep(0)
        told = (idle_turn.done(), owner_turn.done())
        news_rereads = owner.reread  # news of messages leaves the partitions as they are
        room.rebalanced("orders", "sub")  # everyone reads their partitions again
        await asyncio.sleep(0)

        assert told == (False, True)
        assert not news_rereads
        assert idle_turn.done()
        assert idle.reread

    async def test_a_claim_that_filled_its_pull_passes_the_turn_on(self) -> None:
        room, signal, _, pulls = await _waiting(10)
        signal.notify("orders")
        await pulls.settle()

        # When the woken pull's claim took all it asked for, more may be left
        room.begin_claim(pulls.line)
        room.end_claim(pulls.line, full=True)
        await pulls.settle()

        assert pulls.turns == [0, 1]
        await pulls.close()

    async def test_a_claim_that_took_what_there_was_ends_the_turns(self) -> None:
        room, signal, _, pulls = await _waiting(10)
        signal.notify("orders")
        await pulls.settle()

        room.begin_claim(pulls.line)
        again = room.end_claim(pulls.line, full=False)
        await pulls.settle()

        assert (pulls.turns, again, pulls.line.quiet) == ([0], False, True)
        await pulls.close()

    async def test_news_during_a_claim_is_not_lost(self) -> None:
        # Given a lone pull claiming (nobody else waits)
        room, signal, _ = await _room()
        line = room.enter("orders", KEY)
        room.begin_claim(line)

        # When news comes before its claim ends
        signal.notify("orders")

        # Then it is told to claim again, as its claim may have run before the news
        assert room.end_claim(line, full=False) is True
        assert not line.quiet

    async def test_a_cancelled_claim_passes_the_turn_on(self) -> None:
        room, signal, _, pulls = await _waiting(3)
        room.begin_claim(pulls.line)

        room.abandon_claim(pulls.line)
        await pulls.settle()

        assert pulls.turns == [0]
        await pulls.close()


class TestRechecks:
    async def test_a_line_with_waiters_claims_on_its_own_now_and_then(self) -> None:
        # Given waiters and no news at all (a notification was missed)
        room, _, clock, pulls = await _waiting(5)

        # When the recheck time passes
        clock.advance(RECHECK_SECONDS * (1 + RECHECK_JITTER))
        await pulls.settle()

        # Then one of them gets a turn, and only one
        assert pulls.turns == [0]
        await pulls.close()

    async def test_a_due_time_notifies_its_topic_when_it_comes(self) -> None:
        room, _, clock, pulls = await _waiting(5)

        # (sooner than the line's own recheck)
        room.notify_at("orders", [clock.now() + 2])
        clock.advance(1.9)
        await pulls.settle()
        woken_early = list(pulls.turns)
        clock.advance(0.1)
        await pulls.settle()

        assert (woken_early, pulls.turns) == ([], [0])
        await pulls.close()

    async def test_a_due_time_already_passed_notifies_at_once(self) -> None:
        room, _, clock, pulls = await _waiting(2)

        room.notify_at("orders", [clock.now() - 1])
        await pulls.settle()

        assert pulls.turns == [0]
        await pulls.close()

    async def test_a_line_left_empty_is_kept_a_while_then_dropped(self) -> None:
        room, _, clock = await _room()
        line = room.enter("orders", KEY)
        room.leave(line)
        kept = room.enter("orders", KEY)  # a stream pulling again right away
        room.leave(kept)

        clock.advance(KEEP_SECONDS)

        assert kept is line
        assert room.enter("orders", KEY) is not line

    async def test_a_line_kept_empty_still_hears_news(self) -> None:
        room, signal, _ = await _room()
        line = room.enter("orders", KEY)
        room.begin_claim(line)
        room.end_claim(line, full=False)
        room.leave(line)
        quiet_after_claim = line.quiet

        signal.notify("orders")

        assert quiet_after_claim
        assert not room.enter("orders", KEY).quiet
