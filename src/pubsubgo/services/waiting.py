"""WaitingRoom: where this process's long polls wait for news, woken a few at a time.

Waiting pulls that would claim the same thing stand in one *line*: same subscription, same
partitions (ordered subscriptions) and same holder (whose ``max_in_flight`` limits the
claim). A notification of the line's topic wakes one waiter of each line; it claims, and
passes the turn on only when something may be left (it filled its pull, or news came while
it claimed). So a thousand idle long polls cost nothing while nothing arrives, and a
publish costs one claim per line instead of one per waiter.

A line whose last claim found nothing and that heard nothing since is *quiet*: a pull that
joins it waits without claiming first. A missed notification (another process's, lost with
a connection) costs latency, never messages: each line with waiters claims again every
RECHECK_SECONDS or so on its own. Messages that become due with time (delays, retries)
wake their topic at their due time through :meth:`WaitingRoom.notify_at`.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Iterable

from pubsubgo.ports.clock import Clock, Timer
from pubsubgo.ports.signals import MessageSignal
from pubsubgo.services.due import DueTimes

#: How often a line with waiters claims on its own, in case a notification was missed.
RECHECK_SECONDS = 3.0
#: Rechecks are spread by this fraction either way, so that lines do not claim in step.
RECHECK_JITTER = 0.25
#: A line nobody stands in is kept this long, with what it knows: a consumer that pulls
#: again right after its messages (a stream) finds it quiet and waits without claiming.
KEEP_SECONDS = RECHECK_SECONDS

#: What makes two waiting pulls interchangeable: (subscription, partitions of an ordered
#: subscription or None, holder). The holder is the member id, ``""`` for memberless pulls
#: (they share one ``max_in_flight``), or None for a consumer that pulls only within its
#: room, whose empty claim says nothing is deliverable.
LineKey = tuple[str, tuple[int, ...] | None, str | None]


class Line:
    """The waiting pulls of one :data:`LineKey`, and what the line knows of its claims."""

    __slots__ = (
        "claiming", "idle_since", "key", "news", "quiet", "reread", "timer", "topic", "users",
        "waiters",
    )  # fmt: skip

    def __init__(self, topic: str, key: LineKey) -> None:
        self.topic = topic
        self.key = key
        self.waiters: deque[asyncio.Future[None]] = deque()
        #: Pulls holding the line (waiting or claiming); it is dropped when none is left.
        self.users = 0
        self.claiming = 0
        #: A notification came while a claim was running: that claim may have missed it.
        self.news = False
        self.quiet = False
        #: The group may have changed: an ordered subscription's pulls read their
        #: partitions again before they claim (news of messages does not change them).
        self.reread = False
        self.timer: Timer | None = None
        #: When the last pull left it (monotonic clock): it is forgotten KEEP_SECONDS later.
        self.idle_since = 0.0


class WaitingRoom:
    """The lines of this process's waiting pulls, woken by the storage's signal.

    Args:
        signal: the storage's notifications, of this process and the others.
        clock: times the rechecks and the due-time notifications.
        recheck_seconds: how often a line with waiters claims on its own.
    """

    def __init__(
        self, signal: MessageSignal, clock: Clock, recheck_seconds: float = RECHECK_SECONDS
    ) -> None:
        self._signal = signal
        self._clock = clock
        self._recheck = recheck_seconds
        self._lines: dict[str, dict[LineKey, Line]] = {}
        self._due = DueTimes(clock, signal.notify)
        self._listening = False
        #: Forgets lines left empty for KEEP_SECONDS; runs while there may be some.
        self._sweeper: Timer | None = None

    def notify(self, topic: str, subscription: str | None = None) -> None:
        """``topic`` has news (for ``subscription`` only, when given): tell every
        process's waiters."""
        self._signal.notify(topic, subscription)

    def notify_at(self, topic: str, due: Iterable[float], subscription: str | None = None) -> None:
        """Messages of ``topic`` (of ``subscription`` only, when given) become deliverable
        at the times ``due`` (clock.now() terms): tell every process's waiters then (at
        once for those already due)."""
        self._due.add((topic, subscription), due)

    def rebalanced(self, topic: str, subscription: str) -> None:
        """The group of ``subscription`` changed here: its waiting pulls read their
        partitions again (in other processes they do at their next recheck)."""
        for line in list(self._lines.get(topic, {}).values()):
            if line.key[0] == subscription:
                self._stir(line, reread=True)

    def settled(self, subscription: str, topic: str) -> None:
        """Deliveries of ``subscription`` were settled here: pulls held back by their
        ``max_in_flight`` may take more now."""
        lines = self._lines.get(topic)
        if lines:  # (this runs for every ack: nothing made when nobody waits)
            for line in list(lines.values()):
                if line.key[0] == subscription and line.key[2] is not None:
                    self._stir(line)

    def enter(self, topic: str, key: LineKey) -> Line:
        """Join the line ``key`` of ``topic``; :meth:`leave` it when the pull ends."""
        if not self._listening:
            self._signal.listen(self._heard)
            self._listening = True
        lines = self._lines.setdefault(topic, {})
        line = lines.get(key)
        if line is None:
            line = lines[key] = Line(topic, key)
        line.users += 1
        return line

    def leave(self, line: Line) -> None:
        """A pull is done with ``line``."""
        line.users -= 1
        if line.users:
            return
        if line.timer is not None:
            line.timer.cancel()
            line.timer = None
        # A time rather than a timer per line: a stream leaves and re-enters its line
        # once per message, and one sweep forgets every line left long enough.
        line.idle_since = self._clock.monotonic()
        if self._sweeper is None:
            self._sweeper = self._clock.call_later(KEEP_SECONDS, self._sweep)

    def _sweep(self) -> None:
        """Forget the lines nobody has used for KEEP_SECONDS."""
        self._sweeper = None
        cutoff = self._clock.monotonic() - KEEP_SECONDS
        idle = False
        for topic, lines in list(self._lines.items()):
            for key, line in list(lines.items()):
                if line.users:
                    continue
                if line.idle_since <= cutoff:
                    del lines[key]
                else:
                    idle = True
            if not lines:
                del self._lines[topic]
        if idle:
            self._sweeper = self._clock.call_later(KEEP_SECONDS, self._sweep)

    def move(self, line: Line, key: LineKey) -> Line:
        """Leave ``line`` for the line ``key`` of the same topic (a pull whose partitions
        changed); the caller then holds the new line instead."""
        self.leave(line)
        return self.enter(line.topic, key)

    def begin_claim(self, line: Line) -> None:
        """A claim for ``line`` starts: news from now on is kept for its end."""
        line.claiming += 1

    def end_claim(self, line: Line, *, full: bool) -> bool:
        """A claim for ``line`` ended; ``full``: it took all it asked for. Passes the turn
        to the next waiter when more may be left; True when there is none and the caller
        should claim again itself (news came while it claimed)."""
        line.claiming -= 1
        news, line.news = line.news, False
        if news or full:
            line.quiet = False
            return not self._wake_next(line) and news
        if not line.claiming:
            line.quiet = True
        return False

    def abandon_claim(self, line: Line) -> None:
        """A claim for ``line`` failed or was cancelled: whatever it would have taken is
        still there, so the turn goes on."""
        line.claiming -= 1
        line.news = False
        line.quiet = False
        self._wake_next(line)

    async def wait(self, line: Line, seconds: float) -> None:
        """Wait in ``line`` until it is this pull's turn to claim, or ``seconds`` pass."""
        loop = asyncio.get_running_loop()
        turn = loop.create_future()
        line.waiters.append(turn)
        if line.timer is None:
            self._arm(line)
        # A timer that ends the wait like a turn (the pull then looks at the time): cheaper
        # than a timeout scope, and this runs once per message of a streaming consumer.
        time_up = loop.call_later(seconds, _end_wait, turn)
        try:
            await turn
        except asyncio.CancelledError:
            if turn.done() and not turn.cancelled():
                self._wake_next(line)  # the turn given to this pull goes to the next
            raise
        finally:
            time_up.cancel()

    def _heard(self, topic: str | None, subscription: str | None) -> None:
        if topic is None:  # anything may have news, the groups too
            for by_key in list(self._lines.values()):
                for line in list(by_key.values()):
                    self._stir(line, reread=True)
            return
        lines = self._lines.get(topic)
        if not lines:  # (this runs for every publish: nothing made when nobody waits)
            return
        for line in list(lines.values()):
            # Pulls of an ordered subscription's members that own no partition can claim
            # nothing: only a rebalance or a recheck wakes them (to read it again).
            if line.key[1] != () and subscription in (None, line.key[0]):
                self._stir(line)

    def _stir(self, line: Line, *, reread: bool = False) -> None:
        """Something may be deliverable to ``line``: one of its pulls claims (after reading
        its partitions again, with ``reread``)."""
        line.quiet = False
        line.reread = line.reread or reread
        if line.claiming:
            line.news = True
        else:
            self._wake_next(line)

    @staticmethod
    def _wake_next(line: Line) -> bool:
        """Give the turn to the line's first waiter; False when none waits."""
        waiters = line.waiters
        while waiters:
            turn = waiters.popleft()
            if not turn.done():
                turn.set_result(None)
                return True
        return False

    def _arm(self, line: Line) -> None:
        spread = 1 + RECHECK_JITTER * (2 * random.random() - 1)
        line.timer = self._clock.call_later(
            self._recheck * spread, lambda: self._recheck_line(line)
        )

    def _recheck_line(self, line: Line) -> None:
        line.timer = None
        if line.users:
            self._stir(line, reread=True)
            if line.waiters:
                self._arm(line)


def _end_wait(turn: asyncio.Future[None]) -> None:
    """A wait's time is up: the pull wakes and finds its time gone."""
    if not turn.done():
        turn.set_result(None)
