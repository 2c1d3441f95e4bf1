"""The shared load-generator loops count what they are meant to, and stop when they should."""

from __future__ import annotations

import time

from benchmarks.loops import Rounds, drain, publish_in_window
from benchmarks.timing import Counted, Window


async def test_publishing_a_total_counts_every_round_shared_by_the_loops() -> None:
    # Given a total of 10 rounds of 5 messages for 3 loops, in a window already open
    done = Counted()
    sent: list[int] = []

    async def send() -> bool:
        sent.append(1)
        return True

    # When they publish
    await publish_in_window(Window(time.time(), 0), 5, 5, send, done, loops=3, total=50)

    # Then exactly the 10 rounds went out, and every message is counted
    assert len(sent) == 10
    assert done.count == 50
    assert done.errors == 0


async def test_a_drain_counts_what_was_settled_and_stops_once_idle() -> None:
    # Given a backlog of three batches
    done = Counted()
    batches = [[1, 2], [3], [4, 5, 6]]

    async def take() -> list[int] | None:
        return batches.pop(0) if batches else None

    async def settle(batch: list[int]) -> int:
        return len(batch)

    # When it is drained
    started = time.time()
    await drain(Window(started, 0), 5, done, take, settle)

    # Then all six are counted, and the drain ended on the idle cut-off, not the deadline
    assert done.count == 6
    assert started <= done.first <= done.last
    assert time.time() - started < 2


def test_rounds_run_out() -> None:
    rounds = Rounds.of(10, 4)
    assert rounds is not None
    assert [rounds.take() for _ in range(3)] == [True, True, False]
    assert Rounds.of(0, 4) is None
