"""Fixtures of the gRPC tests: the broker's app started on a test server (its lifecycle
starts the gRPC listener on a free port), on memory or on Redis, and real gRPC clients."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import grpc
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from dependency_injector import providers
from grpc import aio
from pytest_aiohttp import AiohttpClient

from pubsubgo.adapters.grpc.generated import broker_pb2_grpc, pubsub_pb2_grpc
from pubsubgo.adapters.grpc.generated import pubsub_pb2 as pb
from pubsubgo.adapters.grpc.status import ERROR_CODE_KEY
from pubsubgo.adapters.wire.keys import BROKER
from pubsubgo.config import (
    BrokerSettings,
    GroupSettingsModel,
    GrpcSettings,
    MetricsSettings,
    ServerSettings,
    Settings,
)
from pubsubgo.containers import Container, api_app, build_container
from pubsubgo.ports.storage import Storage
from pubsubgo.runtime.clock import ManualClock
from pubsubgo.services.broker import Broker
from tests.broker_process import free_port
from tests.conftest import unique

if TYPE_CHECKING:
    from pubsubgo.adapters.grpc.generated.broker_pb2_grpc import BrokerAsyncStub
    from pubsubgo.adapters.grpc.generated.pubsub_pb2_grpc import PubSubAsyncStub

HttpClient = TestClient[web.Request, web.Application]
#: The storage backends the gRPC edge is exercised on.
GRPC_BACKENDS = ["memory", pytest.param("redis", marks=pytest.mark.redis)]


@pytest.fixture(params=GRPC_BACKENDS)
def storage(request: pytest.FixtureRequest) -> Storage:
    """Memory and Redis (overrides the contract suite's backends)."""
    backend: Storage = request.getfixturevalue(f"{request.param}_storage_backend")
    return backend


@pytest.fixture
def settings() -> Settings:
    """gRPC on a free port; fast duties and heartbeats so tests see them in time."""
    return Settings(
        server=ServerSettings(host="127.0.0.1", shutdown_timeout_seconds=2),
        grpc=GrpcSettings(port=free_port()),
        broker=BrokerSettings(duty_interval_seconds=0.05),
        groups=GroupSettingsModel(heartbeat_interval_seconds=0.1, session_timeout_seconds=15),
        metrics=MetricsSettings(port=0),
    )


@pytest.fixture
def container(settings: Settings, storage: Storage, clock: ManualClock) -> Container:
    """The production container over the test's storage and hand-driven clock."""
    built = build_container(settings)
    built.storage.override(providers.Object(storage))
    built.clock.override(providers.Object(clock))
    return built


@pytest.fixture
async def http(container: Container, aiohttp_client: AiohttpClient) -> HttpClient:
    """The app on a test server, started: its lifecycle has started the gRPC listener.

    The container (and its storage) comes first, so that it is torn down after the app
    has stopped."""
    return await aiohttp_client(api_app(container))


@pytest.fixture
def app_broker(http: HttpClient) -> Broker:
    return http.app[BROKER]


@pytest.fixture
async def channel(http: HttpClient, settings: Settings) -> AsyncIterator[aio.Channel]:
    async with aio.insecure_channel(f"127.0.0.1:{settings.grpc.port}") as opened:
        yield opened


@pytest.fixture
def pubsub(channel: aio.Channel) -> PubSubAsyncStub:
    return pubsub_pb2_grpc.PubSubStub(channel)


@pytest.fixture
def go_broker(channel: aio.Channel) -> BrokerAsyncStub:
    return broker_pb2_grpc.BrokerStub(channel)


@dataclass(frozen=True)
class Refused:
    """How a call failed: its status, the broker's error code and the status text."""

    status: grpc.StatusCode
    code: str | None
    details: str
    error: aio.AioRpcError


async def refused(call: Awaitable[Any]) -> Refused:
    """Await ``call``, which must fail; how it failed."""
    try:
        answer = await call
    except aio.AioRpcError as error:
        trailers = dict(error.trailing_metadata() or ())
        code = trailers.get(ERROR_CODE_KEY)
        return Refused(
            error.code(), str(code) if code is not None else None, error.details() or "", error
        )
    raise AssertionError(f"the call succeeded: {answer}")


async def new_topic(pubsub: PubSubAsyncStub, **fields: Any) -> str:
    """A topic with a fresh name, created over gRPC."""
    name = unique("topic")
    await pubsub.CreateTopic(pb.Topic(name=name, **fields))
    return name


async def new_subscription(pubsub: PubSubAsyncStub, topic: str, **fields: Any) -> str:
    """A subscription of ``topic`` from its earliest message (unless told otherwise)."""
    name = unique("sub")
    fields.setdefault("start", pb.START_POSITION_EARLIEST)
    await pubsub.CreateSubscription(pb.Subscription(name=name, topic=topic, **fields))
    return name


async def publish(pubsub: PubSubAsyncStub, topic: str, *texts: str) -> list[str]:
    """Publish one message per text; the ids."""
    messages = [pb.OutgoingMessage(data=text.encode()) for text in texts]
    answer = await pubsub.Publish(pb.PublishRequest(topic=topic, messages=messages))
    return list(answer.ids)
