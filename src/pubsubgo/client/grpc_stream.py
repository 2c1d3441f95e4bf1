"""GrpcMessageStream: a subscription's messages over a StreamingPull, as an async iterator,
each message settled on the stream."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from grpc import aio

from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.client import grpc_models as convert
from pubsubgo.client.errors import ClientClosed
from pubsubgo.client.messages import ReceivedMessage

if TYPE_CHECKING:
    from pubsubgo.client.grpc_client import GrpcCalls


@dataclass(frozen=True, slots=True)
class GrpcStreamMessage(ReceivedMessage):
    """A message delivered on a StreamingPull; settle it with :meth:`ack` or :meth:`nack`."""

    _stream: GrpcMessageStream = field(repr=False, compare=False)

    async def ack(self) -> bool:
        """Acknowledge; False when the broker no longer held it (it will come again)."""
        return await self._stream.settle(pb.StreamingPullRequest(ack_ids=[self.ack_id]))

    async def nack(self, delay: float | None = None) -> bool:
        request = pb.StreamingPullRequest(nack_ids=[self.ack_id], nack_delay_seconds=delay)
        return await self._stream.settle(request)

    async def extend(self, seconds: float | None = None) -> bool:
        request = pb.StreamingPullRequest(extend_ids=[self.ack_id], extend_seconds=seconds)
        return await self._stream.settle(request)


class GrpcMessageStream:
    """A subscription's messages over a StreamingPull, as an async iterator."""

    def __init__(self, calls: GrpcCalls, subscription: str, max_in_flight: int | None) -> None:
        self.subscription = subscription
        self.member_id: str | None = None
        self.assignment: tuple[int, ...] = ()
        self._calls = calls
        self._max_in_flight = max_in_flight or 0
        self._call: Any = None
        self._messages: asyncio.Queue[GrpcStreamMessage | Exception | None] = asyncio.Queue()
        self._waiting: dict[int, asyncio.Future[pb.Settled]] = {}
        self._requests = 0
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        """Start the stream and wait for its membership.

        Raises:
            NotFound: no such subscription.
        """
        if self._call is not None:
            return
        self._call = self._calls.stub.StreamingPull(metadata=self._calls.metadata)
        first = pb.StreamingPullRequest(
            subscription=self.subscription, max_in_flight=self._max_in_flight
        )
        await self._calls.safely(self._call.write(first))
        answer = await self._calls.safely(self._call.read())
        if answer is aio.EOF:
            raise ClientClosed("stream")
        self._membership(answer.membership)
        self._reader = asyncio.create_task(self._read(), name="pubsubgo grpc stream")

    async def aclose(self) -> None:
        """End the stream: the broker redelivers what was not settled."""
        if self._call is not None:
            self._call.cancel()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        self._messages.put_nowait(None)

    async def __aenter__(self) -> GrpcMessageStream:
        await self.open()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def __aiter__(self) -> AsyncIterator[GrpcStreamMessage]:
        return self

    async def __anext__(self) -> GrpcStreamMessage:
        await self.open()
        item = await self._messages.get()
        if item is None:
            self._messages.put_nowait(None)  # later calls end too
            raise StopAsyncIteration
        if isinstance(item, Exception):
            raise item
        return item

    async def settle(self, request: pb.StreamingPullRequest) -> bool:
        """Send an ack, nack or extend and wait for the broker's ``settled`` answer."""
        if self._call is None or self._call.done():
            return False
        self._requests += 1
        request.request_id = self._requests
        answer: asyncio.Future[pb.Settled] = asyncio.get_running_loop().create_future()
        self._waiting[request.request_id] = answer
        await self._calls.safely(self._call.write(request))
        settled = await answer
        return not settled.unknown_ack_ids

    async def _read(self) -> None:
        try:
            while (answer := await self._call.read()) is not aio.EOF:
                self._dispatch(answer)
        except asyncio.CancelledError:
            pass  # the stream was closed
        except aio.AioRpcError as error:
            if error.code().name != "CANCELLED":
                self._messages.put_nowait(convert.client_error(error, self._calls.target))
        finally:
            for waiting in self._waiting.values():
                if not waiting.done():
                    waiting.set_result(pb.Settled(unknown_ack_ids=["?"]))
            self._messages.put_nowait(None)

    def _dispatch(self, answer: pb.StreamingPullResponse) -> None:
        if answer.HasField("settled"):
            waiting = self._waiting.pop(answer.settled.request_id, None)
            if waiting is not None and not waiting.done():
                waiting.set_result(answer.settled)
        elif answer.HasField("membership"):
            self._membership(answer.membership)
        for received in answer.received_messages:
            fields = convert.received_fields(received)
            self._messages.put_nowait(GrpcStreamMessage(**fields, _stream=self))

    def _membership(self, membership: pb.Membership) -> None:
        self.member_id = membership.member_id
        self.assignment = tuple(membership.assignment)
