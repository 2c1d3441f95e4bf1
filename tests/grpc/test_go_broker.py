"""go-broker's ``broker.Broker`` served unchanged: its semantics, on memory and on Redis."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import grpc
from grpc import aio

from pubsubgo.adapters.grpc.generated import broker_pb2 as pb
from pubsubgo.adapters.grpc.generated import pubsub_pb2
from pubsubgo.adapters.grpc.go_broker import LIVE_PREFIX
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.broker_process import eventually
from tests.conftest import unique
from tests.grpc.conftest import refused

if TYPE_CHECKING:
    from pubsubgo.adapters.grpc.generated.broker_pb2_grpc import BrokerAsyncStub
    from pubsubgo.adapters.grpc.generated.pubsub_pb2_grpc import PubSubAsyncStub

#: How long a test waits for something that should come at once.
DEADLINE_SECONDS = 5.0


class Subscriber:
    """A Subscribe call whose bodies a task reads into a queue (cancelling a read would
    cancel the call)."""

    def __init__(self, call: aio.UnaryStreamCall[pb.SubscribeRequest, pb.MessageResponse]) -> None:
        self.call = call
        self.bodies: asyncio.Queue[bytes | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, go_broker: BrokerAsyncStub, subject: str) -> Subscriber:
        """Subscribed once the server has sent its initial metadata."""
        subscriber = cls(go_broker.Subscribe(pb.SubscribeRequest(subject=subject)))
        async with asyncio.timeout(DEADLINE_SECONDS):
            await subscriber.call.initial_metadata()
        return subscriber

    async def _read(self) -> None:
        try:
            async for message in self.call:
                self.bodies.put_nowait(message.body)
        except aio.AioRpcError:
            pass  # the test reads the status from the call
        self.bodies.put_nowait(None)

    async def take(self, count: int) -> list[bytes]:
        found: list[bytes] = []
        async with asyncio.timeout(DEADLINE_SECONDS):
            while len(found) < count:
                body = await self.bodies.get()
                assert body is not None, f"the stream ended after {found}"
                found.append(body)
        return found

    async def nothing_more(self, seconds: float = 0.3) -> None:
        try:
            async with asyncio.timeout(seconds):
                body = await self.bodies.get()
        except TimeoutError:
            return
        raise AssertionError(f"unexpected message: {body!r}")


async def publish(
    go_broker: BrokerAsyncStub, subject: str, body: bytes, expiration: int = 60
) -> int:
    answer = await go_broker.Publish(
        pb.PublishRequest(subject=subject, body=body, expirationSeconds=expiration)
    )
    return answer.id


class TestPublishAndFetch:
    async def test_ids_are_per_subject_and_increase_from_one(
        self, go_broker: BrokerAsyncStub
    ) -> None:
        first, second = unique("alpha"), unique("beta")
        ids = [await publish(go_broker, first, b"a") for _ in range(3)]
        assert ids == [1, 2, 3]
        assert await publish(go_broker, second, b"b") == 1
        fetched = await go_broker.Fetch(pb.FetchRequest(subject=first, id=2))
        assert fetched.body == b"a"

    async def test_a_missing_or_expired_id_is_invalid_argument(
        self, go_broker: BrokerAsyncStub, clock: ManualClock
    ) -> None:
        subject = unique("gamma")
        id_ = await publish(go_broker, subject, b"short", expiration=2)
        assert (await go_broker.Fetch(pb.FetchRequest(subject=subject, id=id_))).body == b"short"
        missing = await refused(go_broker.Fetch(pb.FetchRequest(subject=subject, id=id_ + 1)))
        assert missing.status == grpc.StatusCode.INVALID_ARGUMENT
        clock.advance(3)
        expired = await refused(go_broker.Fetch(pb.FetchRequest(subject=subject, id=id_)))
        assert expired.status == grpc.StatusCode.INVALID_ARGUMENT
        unknown = await refused(go_broker.Fetch(pb.FetchRequest(subject=unique("never"), id=1)))
        assert unknown.status == grpc.StatusCode.INVALID_ARGUMENT

    async def test_fire_and_forget_reaches_subscribers_and_is_never_fetchable(
        self, go_broker: BrokerAsyncStub
    ) -> None:
        subject = unique("delta")
        subscriber = await Subscriber.open(go_broker, subject)
        id_ = await publish(go_broker, subject, b"now or never", expiration=0)
        assert await subscriber.take(1) == [b"now or never"]
        failure = await refused(go_broker.Fetch(pb.FetchRequest(subject=subject, id=id_)))
        assert failure.status == grpc.StatusCode.INVALID_ARGUMENT
        subscriber.call.cancel()

    async def test_a_negative_expiration_or_a_bad_subject_is_invalid_argument(
        self, go_broker: BrokerAsyncStub
    ) -> None:
        negative = await refused(publish(go_broker, unique("s"), b"x", expiration=-1))
        assert negative.status == grpc.StatusCode.INVALID_ARGUMENT
        bad = await refused(publish(go_broker, "no spaces allowed", b"x"))
        assert bad.status == grpc.StatusCode.INVALID_ARGUMENT


class TestSubscribe:
    async def test_fifty_sequential_publishes_arrive_in_order(
        self, go_broker: BrokerAsyncStub
    ) -> None:
        subject = unique("epsilon")
        subscriber = await Subscriber.open(go_broker, subject)
        sent = [f"message {n}".encode() for n in range(50)]
        for body in sent:
            await publish(go_broker, subject, body)
        assert await subscriber.take(50) == sent
        subscriber.call.cancel()

    async def test_every_subscriber_of_a_subject_gets_every_message(
        self, go_broker: BrokerAsyncStub
    ) -> None:
        subject = unique("zeta")
        subscribers = [await Subscriber.open(go_broker, subject) for _ in range(3)]
        await publish(go_broker, subject, b"to all")
        for subscriber in subscribers:
            assert await subscriber.take(1) == [b"to all"]
            subscriber.call.cancel()

    async def test_no_message_crosses_subjects(self, go_broker: BrokerAsyncStub) -> None:
        mine, other = unique("eta"), unique("theta")
        subscriber = await Subscriber.open(go_broker, mine)
        await publish(go_broker, other, b"not for you")
        await publish(go_broker, mine, b"yours")
        assert await subscriber.take(1) == [b"yours"]
        await subscriber.nothing_more()
        subscriber.call.cancel()

    async def test_a_new_subscriber_gets_no_earlier_message(
        self, go_broker: BrokerAsyncStub
    ) -> None:
        subject = unique("iota")
        await publish(go_broker, subject, b"before")
        subscriber = await Subscriber.open(go_broker, subject)
        await publish(go_broker, subject, b"after")
        assert await subscriber.take(1) == [b"after"]
        await subscriber.nothing_more()
        subscriber.call.cancel()

    async def test_a_subscription_lives_as_long_as_its_stream(
        self, go_broker: BrokerAsyncStub, pubsub: PubSubAsyncStub
    ) -> None:
        subject = unique("kappa")

        async def live() -> list[str]:
            request = pubsub_pb2.ListSubscriptionsRequest(topic=subject)
            found = await pubsub.ListSubscriptions(request)
            return [s.name for s in found.subscriptions if s.name.startswith(LIVE_PREFIX)]

        subscriber = await Subscriber.open(go_broker, subject)
        [name] = await live()
        described = await pubsub.GetSubscription(pubsub_pb2.GetSubscriptionRequest(name=name))
        assert not described.subscription.durable
        # When the stream ends, its subscription goes (no leak)
        subscriber.call.cancel()

        async def gone() -> bool | None:
            return True if not await live() else None

        await eventually(gone, "the subscription of the ended stream to go", DEADLINE_SECONDS)

    async def test_a_subscriber_that_never_reads_does_not_slow_a_publisher(
        self, go_broker: BrokerAsyncStub, app_broker: Broker
    ) -> None:
        subject = unique("lambda")
        stalled = go_broker.Subscribe(pb.SubscribeRequest(subject=subject))
        await stalled.initial_metadata()  # subscribed, and never reads
        reader = await Subscriber.open(go_broker, subject)
        body = b"x" * 1024
        started = time.monotonic()
        ids = [await publish(go_broker, subject, body) for _ in range(300)]
        publishing = time.monotonic() - started
        assert ids == list(range(1, 301))
        assert len(await reader.take(300)) == 300
        # 300 KiB for a client that reads nothing: the publisher never waited for it
        assert publishing < DEADLINE_SECONDS
        stalled.cancel()
        reader.call.cancel()


class TestConcurrency:
    async def test_concurrent_publishers_subscribers_and_fetches(
        self, go_broker: BrokerAsyncStub
    ) -> None:
        subject = unique("mu")
        subscribers = [await Subscriber.open(go_broker, subject) for _ in range(3)]

        async def publisher(n: int) -> list[int]:
            return [await publish(go_broker, subject, f"{n}-{i}".encode()) for i in range(20)]

        async def fetcher(ids: list[int]) -> list[bytes]:
            fetched = [await go_broker.Fetch(pb.FetchRequest(subject=subject, id=i)) for i in ids]
            return [f.body for f in fetched]

        id_lists = await asyncio.gather(*(publisher(n) for n in range(5)))
        every_id = sorted(i for ids in id_lists for i in ids)
        assert every_id == list(range(1, 101))
        bodies = await asyncio.gather(*(fetcher(ids) for ids in id_lists))
        for n, fetched in enumerate(bodies):
            assert fetched == [f"{n}-{i}".encode() for i in range(20)]
        for subscriber in subscribers:
            received = await subscriber.take(100)
            assert sorted(received) == sorted(b for batch in bodies for b in batch)
            for n in range(5):  # each publisher's messages in the order it sent them
                mine = [b for b in received if b.startswith(f"{n}-".encode())]
                assert mine == [f"{n}-{i}".encode() for i in range(20)]
            subscriber.call.cancel()
