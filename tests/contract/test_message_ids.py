"""Contract: ids a client sends back are refused or not found, never a storage failure,
whatever their form or size."""

from __future__ import annotations

import pytest

from pubsubgo.core.errors import InvalidArgument, MessageNotFound
from pubsubgo.core.messages import MessageId
from pubsubgo.services.broker import Broker
from tests.contract.helpers import new_topic, publish

#: Ids no backend issues: too many parts for memory, a part past 64 bits for Redis, or
#: digits of another script.
FOREIGN = [
    "0-18446744073709551616-0",
    "0-0-18446744073709551616",
    "0-99999999999999999999-99999999999999999999",
    "0-١٢",
]


class TestIdsFromClients:
    @pytest.mark.parametrize("id_", [*FOREIGN, "0-18446744073709551616", "7-0"])
    async def test_fetching_an_id_no_message_has_is_not_found(
        self, broker: Broker, id_: str
    ) -> None:
        topic = await new_topic(broker)
        await publish(broker, topic, "stored")

        with pytest.raises(MessageNotFound):
            await broker.topics.message(topic, MessageId(id_))

    @pytest.mark.parametrize("id_", FOREIGN)
    async def test_browsing_after_an_id_the_backend_never_issues_is_refused(
        self, broker: Broker, id_: str
    ) -> None:
        topic = await new_topic(broker)
        await publish(broker, topic, "stored")

        with pytest.raises(InvalidArgument) as caught:
            await broker.topics.browse(topic, MessageId(id_), 10)
        assert caught.value.field == "after"

    async def test_browsing_after_an_issued_id_goes_on_from_it(self, broker: Broker) -> None:
        topic = await new_topic(broker)
        ids = await publish(broker, topic, "a", "b", "c")

        page = await broker.topics.browse(topic, ids[0], 10)

        assert [m.id for m in page.messages] == ids[1:]

    async def test_browsing_after_a_partition_the_topic_lacks_is_an_empty_page(
        self, broker: Broker
    ) -> None:
        topic = await new_topic(broker)
        ids = await publish(broker, topic, "a")
        beyond = MessageId("9" + ids[0][ids[0].index("-") :])

        assert (await broker.topics.browse(topic, beyond, 10)).messages == []
