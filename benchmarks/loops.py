"""The loops every load generator runs, whatever system it drives.

A generator keeps what is specific to its system (how to send a batch, fetch some messages,
ack them, read a stamp); the schedule, the window and deadline checks, the idle cut-off of
a drain, the counting and the CPU accounting are the same for all and live here.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from benchmarks.payloads import STAMP_DIGITS, latency_ms
from benchmarks.timing import Counted, Latencies, Window

#: A refused request is retried after this long, so that an error never becomes a busy loop.
ERROR_PAUSE_SECONDS = 0.01
#: How long a drain consumer waits for more before deciding the backlog is empty.
IDLE_SECONDS = 0.3
#: How often a push consumer checks whether it should flush its acks or stop.
WATCH_SECONDS = 0.005

T = TypeVar("T")


@contextlib.contextmanager
def cpu_into(result: Counted | Latencies) -> Iterator[None]:
    """Set ``result.cpu_seconds`` to the CPU time this process used inside the block."""
    started = time.process_time()
    try:
        yield
    finally:
        result.cpu_seconds = time.process_time() - started


async def run_in_window(window: Window, done: Counted, loops: Iterable[Awaitable[Any]]) -> None:
    """Wait for ``window`` to open, then run ``loops`` together, accounting their CPU in
    ``done`` (the loops are started only once the window has opened)."""
    await window.opened()
    with cpu_into(done):
        await asyncio.gather(*loops)


async def stop(task: asyncio.Task[Any]) -> None:
    """Cancel a background task and wait until it has ended."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def every(seconds: float, action: Callable[[], Awaitable[Any]]) -> None:
    """Run ``action`` every ``seconds``, until cancelled."""
    while True:
        await asyncio.sleep(seconds)
        await action()


async def fixed_schedule(start_at: float, rate: float, count: int) -> AsyncIterator[int]:
    """Yield 0 .. ``count`` - 1, each at ``start_at + index / rate``: a late send does not
    delay the next ones."""
    for index in range(count):
        delay = start_at + index / rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield index


@dataclass(slots=True)
class Rounds:
    """Rounds of a publish loop left to do, shared by the loops of one process."""

    left: int

    @classmethod
    def of(cls, total: int, batch: int) -> Rounds | None:
        """``total`` messages in rounds of ``batch``; None (count a window) when no total."""
        return cls(total // batch) if total else None

    def take(self) -> bool:
        """Claim a round; False once none is left."""
        if self.left <= 0:
            return False
        self.left -= 1
        return True


async def publish_rounds(
    window: Window,
    deadline_seconds: float,
    batch: int,
    send: Callable[[], Awaitable[bool]],
    done: Counted,
    rounds: Rounds | None = None,
) -> None:
    """Send rounds of ``batch`` messages until ``window`` closes, counting those answered
    inside it; or, with ``rounds``, until they run out, counting every one. ``send`` sends a
    round and says whether it was accepted: a refused one counts an error and pauses
    ERROR_PAUSE_SECONDS. Gives up ``deadline_seconds`` after the window's start either way."""
    give_up = window.start_at + deadline_seconds
    while time.time() < give_up:
        if rounds is None:
            if not window.is_open(time.time()):
                return
        elif not rounds.take():
            return
        ok = await send()
        now = time.time()
        if not ok:
            done.errors += 1
            await asyncio.sleep(ERROR_PAUSE_SECONDS)
        elif rounds is not None or window.is_open(now):
            done.add(batch, now)


async def publish_in_window(
    window: Window,
    deadline_seconds: float,
    batch: int,
    send: Callable[[], Awaitable[bool]],
    done: Counted,
    *,
    loops: int,
    total: int = 0,
) -> None:
    """``loops`` concurrent ``publish_rounds`` (sharing the rounds of ``total``, if any),
    started when ``window`` opens, their CPU accounted in ``done``."""
    rounds = Rounds.of(total, batch)
    runs = (
        publish_rounds(window, deadline_seconds, batch, send, done, rounds) for _ in range(loops)
    )
    await run_in_window(window, done, runs)


async def drain(
    window: Window,
    deadline_seconds: float,
    done: Counted,
    take: Callable[[], Awaitable[T | None]],
    settle: Callable[[T], Awaitable[int]],
) -> None:
    """Take messages and settle (ack) them until none came for IDLE_SECONDS, or the deadline
    ``deadline_seconds`` after the window's start. ``take`` returns None when it got nothing;
    ``settle`` returns how many the system confirmed, counted when it answered. ``done.first``
    is when the first messages were taken."""
    give_up = window.start_at + deadline_seconds
    idle_since = time.time()
    while time.time() < give_up and time.time() - idle_since < IDLE_SECONDS:
        taken = await take()
        if taken is None:
            continue
        if not done.first:
            done.first = time.time()
        settled = await settle(taken)
        idle_since = time.time()
        done.add(settled, idle_since)


class LatencyTally:
    """A latency consumer's bookkeeping: the latency of each message stamped after the
    warm-up goes into ``found``; ``finished`` is set once ``count`` have arrived."""

    def __init__(self, found: Latencies, count: int, warm_up_until: float) -> None:
        self.found = found
        self.count = count
        self.warm_up_ns = warm_up_until * 1e9
        self.seen = 0
        self.finished = asyncio.Event()

    def sample(self, data: bytes | str) -> None:
        """Time one message (stamped ``data``) unless it was sent during the warm-up."""
        if int(data[:STAMP_DIGITS]) >= self.warm_up_ns:
            self.found.values_ms.append(latency_ms(data))

    def arrived(self, count: int = 1) -> None:
        """``count`` more messages have been handled."""
        self.seen += count
        if self.seen >= self.count:
            self.finished.set()

    @property
    def complete(self) -> bool:
        return self.finished.is_set()

    async def wait(self, give_up: float) -> None:
        """Return once ``finished`` is set, or at the wall-clock instant ``give_up``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(give_up - time.time()):
                await self.finished.wait()
