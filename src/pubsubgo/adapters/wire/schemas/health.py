"""Response bodies of the inspection routes: a topic's partitions, and the health of its
subscriptions."""

from __future__ import annotations

from collections.abc import Iterable

from pubsubgo.core.topics import TopicStats
from pubsubgo.services.health import PartitionOwners, SubscriptionHealth

from .responses import Response


class PartitionView(Response):
    """One partition: how many messages it holds, its oldest and newest message, and per
    subscription the members receiving it (its owner when the subscription is ordered,
    every member otherwise)."""

    partition: int
    depth: int
    first_id: str | None
    last_id: str | None
    owners: dict[str, list[str]]


class PartitionList(Response):
    """``GET /v1/topics/{topic}/partitions``."""

    topic: str
    partitions: list[PartitionView]


def partition_list(topic: str, found: Iterable[PartitionOwners], shown: set[str]) -> PartitionList:
    """The view of ``found``, with the owners of the subscriptions in ``shown`` only."""
    views = [
        PartitionView(
            partition=p.summary.partition,
            depth=p.summary.depth,
            first_id=p.summary.first_id,
            last_id=p.summary.last_id,
            owners={sub: list(members) for sub, members in p.owners.items() if sub in shown},
        )
        for p in found
    ]
    return PartitionList(topic=topic, partitions=views)


class SubscriptionHealthView(Response):
    """How a subscription is doing. ``backlog_growth_per_second`` is the backlog's change
    per second over the last minute as this broker process has seen it (null until it has
    looked twice, at least a second apart); ``dead_letters`` counts what redrive would move
    (over at most 10,000 messages of the dead-letter topic); ``consumers`` are its group's
    members."""

    subscription: str
    topic: str
    backlog: int
    in_flight: int
    backlog_growth_per_second: float | None
    oldest_unacked_age_seconds: float
    dead_letters: int
    consumers: int


def subscription_health_view(health: SubscriptionHealth) -> SubscriptionHealthView:
    """The view of ``health``."""
    return SubscriptionHealthView(
        subscription=health.subscription.name,
        topic=health.subscription.topic,
        backlog=health.backlog,
        in_flight=health.in_flight,
        backlog_growth_per_second=health.backlog_growth_per_second,
        oldest_unacked_age_seconds=health.oldest_unacked_age_seconds,
        dead_letters=health.dead_letters,
        consumers=health.consumers,
    )


class TopicHealthView(Response):
    """``GET /v1/topics/{topic}/health``: what the topic holds, how fast it moves (rates
    over the last minute, this broker process) and how each subscription is doing."""

    topic: str
    messages: int
    partitions: int
    publish_rate_per_second: float
    consume_rate_per_second: float
    subscriptions: list[SubscriptionHealthView]


def topic_health_view(
    topic: str,
    stats: TopicStats,
    rates: tuple[float, float],
    subscriptions: Iterable[SubscriptionHealth],
) -> TopicHealthView:
    """The view of a topic's health; ``rates`` are (publish, consume) per second."""
    return TopicHealthView(
        topic=topic,
        messages=stats.messages,
        partitions=len(stats.partition_depths),
        publish_rate_per_second=rates[0],
        consume_rate_per_second=rates[1],
        subscriptions=[subscription_health_view(h) for h in subscriptions],
    )
