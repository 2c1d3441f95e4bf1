"""What every RPC goes through: the caller admitted, errors mapped to a status, metrics.

Handlers are written as ``handler(self, request, principal)`` (streams also get the call's
context) and wrapped by :func:`unary` or :func:`streaming`, so that none of them maps an
error or counts a call itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import grpc
from grpc import aio

from pubsubgo.adapters.grpc.gate import Gate
from pubsubgo.adapters.grpc.metrics import GrpcMetrics
from pubsubgo.adapters.grpc.status import INTERNAL, Refusal, abort, refusal_of
from pubsubgo.core.access import Principal
from pubsubgo.core.errors import ErrorKind, PubSubError
from pubsubgo.services.broker import Broker

logger = logging.getLogger(__name__)

Context = aio.ServicerContext[Any, Any]
Req = TypeVar("Req")
Resp = TypeVar("Resp")


class BrokerClosing(PubSubError):
    """Raised when a call arrives, or a stream is open, while the broker shuts down."""

    code = "closing"
    kind = ErrorKind.UNAVAILABLE

    def __init__(self) -> None:
        super().__init__("the broker is shutting down; retry on another replica")


@dataclass(frozen=True, slots=True)
class Edge:
    """What the gRPC services share.

    Attributes:
        broker: the driving API.
        gate: authentication and rate limits.
        metrics: where calls are counted; None when metrics are off.
        closing: set when the server begins to stop: new calls and open streams end
            with UNAVAILABLE.
    """

    broker: Broker
    gate: Gate = field(default_factory=Gate)
    metrics: GrpcMetrics | None = None
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    #: Clean-ups of ended streams (leaving a group) still running: the server waits for
    #: them when it stops, before storage closes under them.
    cleanups: set[asyncio.Task[None]] = field(default_factory=set)
    #: The tasks serving open streams, so that stopping waits for their ``finally``.
    streams: set[asyncio.Task[Any]] = field(default_factory=set)

    def admit(self, context: Context) -> Principal:
        """The caller, admitted (see :meth:`Gate.admit`); BrokerClosing while stopping."""
        if self.closing.is_set():
            raise BrokerClosing
        return self.gate.admit(context)

    def stream_opened(self, method: str) -> asyncio.Task[Any] | None:
        """Count a stream that starts; its task, for :meth:`drain` to wait for."""
        task = asyncio.current_task()
        if task is not None:
            self.streams.add(task)
        if self.metrics is not None:
            self.metrics.stream_opened(method)
        return task

    def stream_closed(
        self,
        method: str,
        task: asyncio.Task[Any] | None,
        status: grpc.StatusCode,
        refused: Refusal | None,
    ) -> None:
        """The stream :meth:`stream_opened` counted has ended with ``status``."""
        if task is not None:
            self.streams.discard(task)
        if self.metrics is not None:
            self.metrics.stream_closed(method, status, None if refused is None else refused.code)

    async def clean_up(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` to its end even if the caller is cancelled (a stream whose client
        went away must still leave its group); :meth:`drain` waits for it."""
        task = asyncio.create_task(work)
        self.cleanups.add(task)
        task.add_done_callback(self.cleanups.discard)
        await asyncio.shield(task)

    async def drain(self, seconds: float) -> None:
        """Wait up to ``seconds`` for the streams still ending and their clean-ups."""
        if self.streams:
            await asyncio.wait(set(self.streams), timeout=seconds)
        if self.cleanups:
            await asyncio.wait(set(self.cleanups), timeout=seconds)


class Served(Protocol):
    """A servicer whose RPCs go through the wrappers: it holds the edge."""

    edge: Edge


S = TypeVar("S", bound=Served)
UnaryHandler = Callable[[S, Req, Principal], Awaitable[Resp]]
StreamHandler = Callable[[S, Req, Principal, Context], AsyncGenerator[Resp, None]]


def unary(
    method: str,
) -> Callable[[UnaryHandler[S, Req, Resp]], Callable[[S, Req, Context], Coroutine[Any, Any, Resp]]]:
    """Wrap a unary handler of the RPC named ``method`` (``package.Service/Method``)."""

    def wrap(
        handler: UnaryHandler[S, Req, Resp],
    ) -> Callable[[S, Req, Context], Coroutine[Any, Any, Resp]]:
        @functools.wraps(handler)
        async def call(self: S, request: Req, context: Context) -> Resp:
            edge = self.edge
            started = time.perf_counter()
            refused: Refusal | None = None
            status = grpc.StatusCode.OK
            try:
                return await handler(self, request, edge.admit(context))
            except asyncio.CancelledError:
                status = grpc.StatusCode.CANCELLED
                raise
            except Exception as error:
                refused = _refusal(method, error)
                status = refused.status
            finally:
                if edge.metrics is not None:
                    code = None if refused is None else refused.code
                    edge.metrics.served(method, status, time.perf_counter() - started, code)
            assert refused is not None  # only a refusal gets here
            await abort(context, refused)

        return call

    return wrap


def streaming(
    method: str,
) -> Callable[[StreamHandler[S, Req, Resp]], Callable[[S, Req, Context], AsyncIterator[Resp]]]:
    """Wrap a handler that streams its answers, of the RPC named ``method``."""

    def wrap(
        handler: StreamHandler[S, Req, Resp],
    ) -> Callable[[S, Req, Context], AsyncIterator[Resp]]:
        @functools.wraps(handler)
        async def call(self: S, request: Req, context: Context) -> AsyncIterator[Resp]:
            edge = self.edge
            refused: Refusal | None = None
            status = grpc.StatusCode.OK
            task = edge.stream_opened(method)
            try:
                # Closed here, in this task, however the call ends: its clean-up (leaving
                # a group) must not wait for the garbage collector.
                async with contextlib.aclosing(
                    handler(self, request, edge.admit(context), context)
                ) as answers:
                    async for answer in answers:
                        yield answer
            except (asyncio.CancelledError, GeneratorExit):
                status = grpc.StatusCode.CANCELLED
                raise
            except Exception as error:
                refused = _refusal(method, error)
                status = refused.status
            finally:
                edge.stream_closed(method, task, status, refused)
            if refused is not None:
                await abort(context, refused)

        return call

    return wrap


def _refusal(method: str, error: Exception) -> Refusal:
    """The status an exception out of a handler ends the call with."""
    if isinstance(error, aio.AbortError):
        raise error  # the handler ended the call itself
    if isinstance(error, PubSubError):
        return refusal_of(error)
    logger.error("gRPC %s failed", method, exc_info=error)
    return INTERNAL
