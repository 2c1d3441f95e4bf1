"""Contract: topics and subscriptions list in name order, a page at a time, by prefix."""

from __future__ import annotations

from pubsubgo.core.names import NamePage
from pubsubgo.core.subscriptions import Subscription
from pubsubgo.core.topics import Topic
from pubsubgo.services.broker import Broker
from tests.conftest import unique


async def _topics(broker: Broker, prefix: str, count: int) -> list[str]:
    names = [f"{prefix}{i:02d}" for i in range(count)]
    for name in reversed(names):
        await broker.topics.create(Topic(name))
    return names


class TestListingTopics:
    async def test_pages_follow_each_other_in_name_order(self, broker: Broker) -> None:
        prefix = unique("page") + "-"
        names = await _topics(broker, prefix, 5)

        first = await broker.topics.list(NamePage(prefix, "", 2))
        second = await broker.topics.list(NamePage(prefix, first[-1].name, 2))
        last = await broker.topics.list(NamePage(prefix, second[-1].name, 2))

        assert [t.name for t in first + second + last] == names
        assert len(last) == 1

    async def test_a_prefix_keeps_only_the_names_that_start_with_it(self, broker: Broker) -> None:
        prefix = unique("pre")
        wanted = await _topics(broker, f"{prefix}-a", 2)
        await _topics(broker, f"{prefix}-b", 2)

        assert [t.name for t in await broker.topics.list(NamePage(f"{prefix}-a"))] == wanted

    async def test_without_arguments_every_topic_is_listed(self, broker: Broker) -> None:
        names = await _topics(broker, unique("all") + "-", 3)
        listed = [t.name for t in await broker.topics.list()]
        assert set(names) <= set(listed)
        assert listed == sorted(listed)


class TestListingSubscriptions:
    async def test_a_page_of_one_topics_subscriptions_skips_the_others(
        self, broker: Broker
    ) -> None:
        prefix = unique("subpage") + "-"
        one, other = await _topics(broker, prefix + "t", 2)
        names = [f"{prefix}s{i}" for i in range(6)]
        for index, name in enumerate(names):
            await broker.subscriptions.create(Subscription(name, one if index % 2 else other))

        first = await broker.subscriptions.list(one, NamePage(prefix, "", 2))
        rest = await broker.subscriptions.list(one, NamePage(prefix, first[-1].name, 2))

        assert [s.name for s in first + rest] == names[1::2]
        assert [
            s.name for s in await broker.subscriptions.list(None, NamePage(prefix, "", 3))
        ] == names[:3]
