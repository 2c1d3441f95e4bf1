"""HealthService: how a topic's partitions and subscriptions are doing, for the CLI and the
console: depths and owners per partition, and per subscription its backlog and how it
grows, its oldest unacked message, its dead letters and its consumers."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass

from pubsubgo.core.errors import TopicNotFound
from pubsubgo.core.groups import GroupState
from pubsubgo.core.messages import MessageId
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import PartitionSummary, TopicStats
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.groups import GroupStore
from pubsubgo.ports.message_log import MessageLog
from pubsubgo.services.subscriptions import SubscriptionService, dead_lettered_by
from pubsubgo.services.topics import TopicService

#: Dead letters are counted over at most this many messages of the dead-letter topic.
DEAD_LETTER_SCAN = 10_000
#: Backlog growth is measured against the oldest look within this many seconds...
GROWTH_WINDOW_SECONDS = 60.0
#: ...and only over at least this long, so that two quick looks do not make a wild rate.
MIN_GROWTH_SPAN_SECONDS = 1.0
#: Looks kept per subscription (enough for one a second over the window).
_SAMPLES = 64


@dataclass(frozen=True, slots=True)
class PartitionOwners:
    """One partition of a topic, and who receives its messages in each subscription."""

    summary: PartitionSummary
    #: subscription -> the members that receive this partition's messages: its owner in an
    #: ordered subscription, every member in an unordered one (members share partitions).
    owners: Mapping[str, tuple[str, ...]]


@dataclass(frozen=True, slots=True)
class SubscriptionHealth:
    """How a subscription is doing."""

    subscription: Subscription
    backlog: int
    in_flight: int
    #: Change of the backlog per second since this broker process first looked within the
    #: last minute (None until two looks at least a second apart).
    backlog_growth_per_second: float | None
    oldest_unacked_age_seconds: float
    #: Messages it dead-lettered that its dead-letter topic still holds (what redrive
    #: would move), counted over at most DEAD_LETTER_SCAN messages of that topic.
    dead_letters: int
    #: Members of its consumer group (WebSockets, event streams, push workers, joined pullers).
    consumers: int


@dataclass(frozen=True, slots=True)
class TopicHealth:
    """What a topic holds, and how each of its subscriptions is doing (by name)."""

    stats: TopicStats
    subscriptions: list[SubscriptionHealth]


class HealthService:
    """Reads the state of topics and subscriptions for people (not on any hot path), through
    the topic and subscription services and the stored partitions."""

    def __init__(
        self,
        topics: TopicService,
        subscriptions: SubscriptionService,
        messages: MessageLog,
        groups: GroupStore,
        clock: Clock,
    ) -> None:
        self._topics = topics
        self._subscriptions = subscriptions
        self._messages = messages
        self._groups = groups
        self._clock = clock
        self._looks: dict[str, deque[tuple[float, int]]] = {}

    async def partitions(self, topic: str) -> list[PartitionOwners]:
        """Each partition of ``topic`` with its depth, first and last id, and owners.

        Raises:
            TopicNotFound: no such topic.
        """
        await self._topics.describe(topic)
        summaries = await self._messages.partitions(topic)
        subscriptions = await self._subscriptions.list(topic)
        groups = {s.name: (s.ordered, await self._groups.load(s.name)) for s in subscriptions}
        return [
            PartitionOwners(
                summary,
                {
                    name: _owners(group, summary.partition, ordered)
                    for name, (ordered, group) in groups.items()
                },
            )
            for summary in summaries
        ]

    async def of_topic(self, topic: str) -> TopicHealth:
        """What ``topic`` holds and the health of each of its subscriptions.

        Raises:
            TopicNotFound: no such topic.
        """
        stats = (await self._topics.describe(topic)).stats
        subscriptions = await self._subscriptions.list(topic)
        return TopicHealth(stats, [await self.of_subscription(s.name) for s in subscriptions])

    async def of_subscription(self, name: str) -> SubscriptionHealth:
        """The health of subscription ``name``.

        Raises:
            SubscriptionNotFound: no such subscription.
        """
        found = await self._subscriptions.describe(name)
        stats = found.stats
        return SubscriptionHealth(
            subscription=found.subscription,
            backlog=stats.backlog,
            in_flight=stats.in_flight,
            backlog_growth_per_second=self._growth(name, self._clock.now(), stats.backlog),
            oldest_unacked_age_seconds=stats.oldest_unacked_age_seconds,
            dead_letters=await self._dead_letters(found.subscription),
            consumers=len(found.group.members),
        )

    def _growth(self, name: str, now: float, backlog: int) -> float | None:
        """The backlog's change per second since the oldest look in the window."""
        looks = self._looks.setdefault(name, deque(maxlen=_SAMPLES))
        while looks and now - looks[0][0] > GROWTH_WINDOW_SECONDS:
            looks.popleft()
        growth = None
        if looks and now - looks[0][0] >= MIN_GROWTH_SPAN_SECONDS:
            then, before = looks[0]
            growth = (backlog - before) / (now - then)
        if not looks or now - looks[-1][0] >= MIN_GROWTH_SPAN_SECONDS:
            looks.append((now, backlog))
        return growth

    async def _dead_letters(self, subscription: Subscription) -> int:
        topic = subscription.dead_letter_topic
        if topic is None:
            return 0
        counted = seen = 0
        after: MessageId | None = None
        while seen < DEAD_LETTER_SCAN:
            try:
                page = await self._messages.browse(topic, after, min(1000, DEAD_LETTER_SCAN - seen))
            except TopicNotFound:
                return 0  # deleted since: nothing left to redrive
            if not page:
                break
            seen += len(page)
            counted += sum(dead_lettered_by(m, subscription) for m in page)
            after = page[-1].id
        return counted


def _owners(group: GroupState, partition: int, ordered: bool) -> tuple[str, ...]:
    if not ordered:
        return tuple(sorted(group.members))
    owner = group.owner_of(partition)
    return () if owner is None else (owner,)
