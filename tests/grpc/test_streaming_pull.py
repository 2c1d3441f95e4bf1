"""StreamingPull: flow control, settling on the stream, redelivery and rebalances."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import grpc
from grpc import aio

from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.runtime.clock import ManualClock
from tests.grpc.conftest import new_subscription, new_topic, publish

if TYPE_CHECKING:
    from pubsubgo.adapters.grpc.generated.pubsub_pb2_grpc import PubSubAsyncStub

#: How long a test waits for something that should come at once.
DEADLINE_SECONDS = 5.0

Call = aio.StreamStreamCall[pb.StreamingPullRequest, pb.StreamingPullResponse]


class Stream:
    """A StreamingPull call whose answers a task reads into a queue: a test may then wait
    for one with a deadline (cancelling a read would cancel the call itself)."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self._answers: asyncio.Queue[pb.StreamingPullResponse | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for answer in self.call:
                self._answers.put_nowait(answer)
        except aio.AioRpcError:
            pass  # the test reads the status from the call
        self._answers.put_nowait(None)

    async def write(self, request: pb.StreamingPullRequest) -> None:
        await self.call.write(request)

    async def next(self, seconds: float = DEADLINE_SECONDS) -> pb.StreamingPullResponse | None:
        """The next answer; None once the stream has ended."""
        async with asyncio.timeout(seconds):
            return await self._answers.get()

    def cancel(self) -> None:
        self.call.cancel()


async def next_answer(stream: Stream) -> pb.StreamingPullResponse:
    answer = await stream.next()
    assert answer is not None, "the stream ended"
    return answer


async def messages(stream: Stream, count: int) -> list[pb.ReceivedMessage]:
    """The next ``count`` messages of the stream (other answers skipped)."""
    found: list[pb.ReceivedMessage] = []
    while len(found) < count:
        found += (await next_answer(stream)).received_messages
    assert len(found) == count, found
    return found


async def nothing_more(stream: Stream, seconds: float = 0.5) -> None:
    """No answer comes within ``seconds``."""
    try:
        answer = await stream.next(seconds)
    except TimeoutError:
        return
    raise AssertionError(f"unexpected answer: {answer}")


async def open_stream(
    pubsub: PubSubAsyncStub, sub: str, max_in_flight: int = 0
) -> tuple[Stream, pb.Membership]:
    """A stream subscribed to ``sub``, and the membership it was told first."""
    stream = Stream(pubsub.StreamingPull())
    await stream.write(pb.StreamingPullRequest(subscription=sub, max_in_flight=max_in_flight))
    first = await next_answer(stream)
    assert first.HasField("membership"), first
    return stream, first.membership


class TestFlowControl:
    async def test_at_most_max_in_flight_messages_are_unsettled(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(pubsub, topic)
        await publish(pubsub, topic, *(f"m{n}" for n in range(5)))
        stream, membership = await open_stream(pubsub, sub, max_in_flight=2)
        assert membership.max_in_flight == 2
        assert membership.member_id
        # Two come, and no more until they are settled
        first = await messages(stream, 2)
        await nothing_more(stream)
        # Acking them on the stream is confirmed, and lets the next two come
        await stream.write(pb.StreamingPullRequest(ack_ids=[m.ack_id for m in first], request_id=7))
        settled = await next_answer(stream)
        assert (settled.settled.request_id, settled.settled.acked) == (7, 2)
        second = await messages(stream, 2)
        # Raising max_in_flight lets the last one come without settling
        await stream.write(pb.StreamingPullRequest(max_in_flight=10))
        third = await messages(stream, 1)
        data = [m.message.data for m in first + second + third]
        assert sorted(data) == [f"m{n}".encode() for n in range(5)]
        stream.cancel()

    async def test_a_message_published_later_is_pushed(self, pubsub: PubSubAsyncStub) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(pubsub, topic)
        stream, _ = await open_stream(pubsub, sub)
        await publish(pubsub, topic, "later")
        [message] = await messages(stream, 1)
        assert (message.message.data, message.subscription) == (b"later", sub)
        stream.cancel()


class TestRedelivery:
    async def test_a_nacked_message_comes_again_with_the_next_attempt(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(pubsub, topic)
        await publish(pubsub, topic, "again")
        stream, _ = await open_stream(pubsub, sub)
        [first] = await messages(stream, 1)
        await stream.write(pb.StreamingPullRequest(nack_ids=[first.ack_id], nack_delay_seconds=0))
        [second] = await messages(stream, 1)
        assert (second.message.data, second.delivery_attempt) == (b"again", 2)
        stream.cancel()

    async def test_what_a_closed_stream_held_goes_to_another_stream(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(pubsub, topic)
        await publish(pubsub, topic, "held")
        first, _ = await open_stream(pubsub, sub)
        [held] = await messages(first, 1)
        # When the stream holding it goes away without settling it
        first.cancel()
        # Then a new stream receives it at once, as the next attempt
        second, _ = await open_stream(pubsub, sub)
        [again] = await messages(second, 1)
        assert (again.message.data, again.delivery_attempt) == (held.message.data, 2)
        second.cancel()

    async def test_an_unsettled_message_comes_again_after_its_deadline(
        self, pubsub: PubSubAsyncStub, clock: ManualClock
    ) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(
            pubsub, topic, ack_deadline_seconds=10,
            retry_policy=pb.RetryPolicy(minimum_backoff_seconds=0),
        )  # fmt: skip
        await publish(pubsub, topic, "slow")
        stream, _ = await open_stream(pubsub, sub, max_in_flight=1)
        [first] = await messages(stream, 1)
        # Extending on the stream keeps it; the deadline passing does not
        await stream.write(pb.StreamingPullRequest(extend_ids=[first.ack_id], extend_seconds=30))
        assert (await next_answer(stream)).settled.extended == 1
        clock.advance(31)
        [second] = await messages(stream, 1)
        assert second.delivery_attempt == 2
        stream.cancel()


class TestGroups:
    async def test_streams_of_an_ordered_subscription_share_its_partitions(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic = await new_topic(pubsub, partitions=4)
        sub = await new_subscription(pubsub, topic, ordered=True)
        first, alone = await open_stream(pubsub, sub)
        assert sorted(alone.assignment) == [0, 1, 2, 3]
        # When a second stream joins, the first hears of the rebalance
        second, joined = await open_stream(pubsub, sub)
        rebalanced = (await next_answer(first)).membership
        assert rebalanced.generation > alone.generation
        assert sorted([*rebalanced.assignment, *joined.assignment]) == [0, 1, 2, 3]
        assert rebalanced.assignment
        assert joined.assignment
        # And when it leaves, the first owns everything again
        second.cancel()
        back = (await next_answer(first)).membership
        assert sorted(back.assignment) == [0, 1, 2, 3]
        first.cancel()

    async def test_a_deleted_subscription_ends_its_stream_with_not_found(
        self, pubsub: PubSubAsyncStub
    ) -> None:
        topic = await new_topic(pubsub)
        sub = await new_subscription(pubsub, topic)
        stream, _ = await open_stream(pubsub, sub)
        await pubsub.DeleteSubscription(pb.DeleteSubscriptionRequest(name=sub))
        await publish(pubsub, topic, "wake")
        while (answer := await stream.next()) is not None:
            assert not answer.received_messages
        assert await stream.call.code() == grpc.StatusCode.NOT_FOUND
