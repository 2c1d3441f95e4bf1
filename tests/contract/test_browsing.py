"""Contract: browsing shows what fetching can return: expired messages are left out, and a
page that lost messages to expiry still points to the next one."""

from __future__ import annotations

from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.contract.helpers import new_topic, publish


class TestBrowsingExpiredMessages:
    async def test_expired_messages_are_left_out_of_a_page(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        # Given a topic holding one short-lived message between two others
        topic = await new_topic(broker)
        [first] = await publish(broker, topic, "first")
        await publish(broker, topic, "short-lived", ttl_seconds=5)
        [last] = await publish(broker, topic, "last")
        # When it has expired
        clock.advance(6)
        page = await broker.topics.browse(topic, None, 10)
        # Then the page holds only what can still be fetched
        assert [m.id for m in page.messages] == [first, last]
        assert page.next_after is None

    async def test_a_page_thinned_by_expiry_still_leads_to_the_next(
        self, broker: Broker, clock: ManualClock
    ) -> None:
        topic = await new_topic(broker)
        await publish(broker, topic, "gone-1", "gone-2", ttl_seconds=5)
        [kept] = await publish(broker, topic, "kept")
        clock.advance(6)

        page = await broker.topics.browse(topic, None, 2)
        assert page.messages == []
        assert page.next_after is not None
        rest = await broker.topics.browse(topic, page.next_after, 2)
        assert [m.id for m in rest.messages] == [kept]
        assert rest.next_after is None
