"""The composition root: the one place that knows every concrete class and wires them."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import TypeVar

import aiohttp
from aiohttp import web
from dependency_injector import containers, providers
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client.registry import CollectorRegistry

from pubsubgo.adapters.console import routes as console
from pubsubgo.adapters.grpc.calls import Edge
from pubsubgo.adapters.grpc.gate import Gate
from pubsubgo.adapters.grpc.metrics import GrpcMetrics
from pubsubgo.adapters.grpc.server import GrpcServer, Listening
from pubsubgo.adapters.http.app import ApiParts, Callers, create_app
from pubsubgo.adapters.http.observability import Observability
from pubsubgo.adapters.http.routes import (
    dead_letters,
    events,
    health,
    identity,
    legacy,
    members,
    subscriptions,
    system,
    topics,
)
from pubsubgo.adapters.memory import memory_storage
from pubsubgo.adapters.memory import message_log as memory_ids
from pubsubgo.adapters.postgres import codec as postgres_ids
from pubsubgo.adapters.postgres import postgres_storage
from pubsubgo.adapters.prometheus.gauges import StorageGauges
from pubsubgo.adapters.prometheus.metrics import PrometheusMetrics
from pubsubgo.adapters.push import PushDispatcher
from pubsubgo.adapters.redis import build_client, redis_storage
from pubsubgo.adapters.redis import codec as redis_ids
from pubsubgo.adapters.sqlite import codec as sqlite_ids
from pubsubgo.adapters.sqlite import open_sqlite_storage
from pubsubgo.adapters.telemetry import OpenTelemetryTracer, otlp_exporter, tracer_provider
from pubsubgo.adapters.websocket import handler as websocket
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.ratelimit import RateLimiter
from pubsubgo.adapters.wire.tls import server_pem
from pubsubgo.adapters.wire.tokens import TokenStore
from pubsubgo.auth_config import AuthSettings
from pubsubgo.config import PostgresSettings, Settings
from pubsubgo.core.groups import GroupSettings
from pubsubgo.core.limits import Limits
from pubsubgo.core.topics import AutoCreate
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.metrics import BrokerMetrics
from pubsubgo.ports.storage import Storage
from pubsubgo.ports.tracing import MessageTracer
from pubsubgo.runtime.clock import SystemClock
from pubsubgo.runtime.duties import BackgroundRunner
from pubsubgo.runtime.metrics_fanout import FanOutMetrics
from pubsubgo.runtime.rates import RateMetrics
from pubsubgo.services.acknowledgment import AckService
from pubsubgo.services.broker import Broker
from pubsubgo.services.dead_letters import DeadLetterService
from pubsubgo.services.groups import GroupService
from pubsubgo.services.health import HealthService
from pubsubgo.services.metrics import NullMetrics
from pubsubgo.services.publisher import PublisherService
from pubsubgo.services.subscriber import SubscriberService
from pubsubgo.services.subscriptions import SubscriptionService
from pubsubgo.services.topics import TopicService
from pubsubgo.services.waiting import WaitingRoom

T = TypeVar("T")


def build_broker(
    storage: Storage,
    clock: Clock,
    metrics: BrokerMetrics | None = None,
    limits: Limits | None = None,
    group_settings: GroupSettings | None = None,
    tracer: MessageTracer | None = None,
    auto_create: AutoCreate | None = None,
) -> Broker:
    """Every service wired to ``storage``: the server's broker, and the tests'."""
    metrics = metrics or NullMetrics()
    s = storage
    # One per broker: the long polls of this process wait here for the storage's signal.
    waiting = WaitingRoom(s.signal, clock)
    publisher = PublisherService(
        s.topics, s.messages, waiting, clock, metrics, limits, tracer, auto_create
    )
    dead_letters = DeadLetterService(publisher, s.messages, s.in_flight, clock, metrics)
    acks = AckService(s.subscriptions, s.in_flight, dead_letters, waiting, clock, metrics)
    topics = TopicService(s.topics, s.subscriptions, s.messages, clock)
    subscriptions = SubscriptionService(
        s.topics, s.subscriptions, s.messages, s.deliveries, s.groups, waiting, clock
    )
    return Broker(
        topics=topics,
        subscriptions=subscriptions,
        publisher=publisher,
        subscriber=SubscriberService(
            s.topics,
            s.subscriptions,
            s.deliveries,
            s.in_flight,
            s.groups,
            waiting,
            clock,
            metrics,
            tracer,
        ),
        acks=acks,
        groups=GroupService(
            s.topics, s.subscriptions, s.groups, acks, clock, metrics, group_settings, waiting
        ),
        health=HealthService(topics, subscriptions, s.messages, s.groups, clock),
    )


async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    """The configured storage backend, and only that one: a Selector of resources would open
    (connect) every branch when resources are initialised."""
    if settings.storage.backend == "postgres":
        async for storage in open_postgres_storage(settings.postgres):
            yield storage
        return
    if settings.storage.backend == "sqlite":
        sqlite = await open_sqlite_storage(settings.sqlite.path, settings.sqlite.synchronous)
        async with contextlib.aclosing(sqlite):
            yield sqlite
        return
    if settings.storage.backend != "redis":
        yield memory_storage()
        return
    client = build_client(settings.redis.url)
    storage = redis_storage(client)
    try:
        yield storage
    finally:
        await storage.aclose()
        await client.aclose()


async def open_postgres_storage(settings: PostgresSettings) -> AsyncIterator[Storage]:
    """The PostgreSQL backend, its schema brought up to date; closed on shutdown."""
    storage = await postgres_storage(
        settings.url,
        schema=settings.schema_name,
        pool_size=settings.pool_size,
        statement_timeout=settings.statement_timeout_seconds,
        start_timeout=settings.start_timeout_seconds,
    )
    try:
        yield storage
    finally:
        await storage.aclose()


def broker_metrics(
    enabled: bool, rates: RateMetrics, prometheus: PrometheusMetrics
) -> BrokerMetrics:
    """Where the services report: the stats rates always, Prometheus when metrics are on."""
    return FanOutMetrics(rates, prometheus) if enabled else rates


async def open_tracer_provider(
    enabled: bool, endpoint: str, service_name: str
) -> AsyncIterator[TracerProvider | None]:
    """The tracer provider exporting over OTLP/HTTP (None when tracing is off); on shutdown it
    flushes what is still buffered."""
    if not enabled:
        yield None
        return
    provider = tracer_provider(service_name, otlp_exporter(endpoint))
    try:
        yield provider
    finally:
        await asyncio.to_thread(provider.shutdown)


def message_tracer(provider: TracerProvider | None) -> MessageTracer | None:
    """Spans for published and delivered messages, when tracing is on."""
    return OpenTelemetryTracer(provider) if provider is not None else None


def http_observability(
    metrics_enabled: bool,
    prometheus: PrometheusMetrics,
    provider: TracerProvider | None,
    access_log: bool,
) -> Observability:
    """What the HTTP middleware reports each request to."""
    tracer = provider.get_tracer("pubsubgo.http") if provider is not None else None
    return Observability(prometheus if metrics_enabled else None, tracer, access_log)


def topics_created_on_publish(enabled: bool, partitions: int) -> AutoCreate | None:
    """How a first publish creates its topic (``topics.*``), or None when it does not."""
    return AutoCreate(partitions) if enabled else None


def token_store(auth: AuthSettings) -> TokenStore | None:
    """The known tokens, or None when authentication is off."""
    return TokenStore.of(auth.every_token) if auth.enabled else None


def caller_rate_limiter(rate_per_second: float, burst: int) -> RateLimiter | None:
    """The per-caller request rate, or None when it is not limited (a rate of 0)."""
    return RateLimiter(rate_per_second, burst) if rate_per_second > 0 else None


def grpc_server(
    settings: Settings,
    broker: Broker,
    clock: Clock,
    tokens: TokenStore | None,
    limiter: RateLimiter | None,
    prometheus: PrometheusMetrics,
    provider: TracerProvider | None,
) -> GrpcServer | None:
    """The gRPC listener beside the HTTP one (DESIGN §4b), or None when ``grpc.port`` is 0."""
    if not settings.grpc.port:
        return None
    server = settings.server
    listening = Listening(
        host=server.host,
        port=settings.grpc.port,
        max_message_bytes=settings.limits.max_body_bytes,
        shared_port=server.workers > 1,
        shutdown_seconds=server.shutdown_timeout_seconds,
        tls=server_pem(server),
    )
    metrics = GrpcMetrics(prometheus.registry, prometheus) if settings.metrics.enabled else None
    edge = Edge(broker, Gate(tokens, limiter), metrics)
    return GrpcServer(edge, clock, listening, provider)


async def open_http_client() -> AsyncIterator[aiohttp.ClientSession]:
    """The HTTP client that push workers post with; closed on shutdown."""
    async with aiohttp.ClientSession() as session:
        yield session


class Container(containers.DeclarativeContainer):
    """Every component of the broker, built from ``Settings``."""

    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    storage = providers.Resource(open_storage, settings=settings)
    rates = providers.Singleton(RateMetrics)
    metrics_registry = providers.Singleton(CollectorRegistry)
    prometheus = providers.Singleton(
        PrometheusMetrics,
        registry=metrics_registry,
        websocket_limit=settings.provided.limits.max_websockets,
    )
    storage_gauges = providers.Singleton(StorageGauges, registry=metrics_registry)
    metrics = providers.Singleton(
        broker_metrics,
        enabled=settings.provided.metrics.enabled,
        rates=rates,
        prometheus=prometheus,
    )
    tracer_provider = providers.Resource(
        open_tracer_provider,
        enabled=settings.provided.tracing.enabled,
        endpoint=settings.provided.tracing.otlp_endpoint,
        service_name=settings.provided.tracing.service_name,
    )
    tracer = providers.Singleton(message_tracer, provider=tracer_provider)
    observability = providers.Singleton(
        http_observability,
        metrics_enabled=settings.provided.metrics.enabled,
        prometheus=prometheus,
        provider=tracer_provider,
        access_log=settings.provided.log.access,
    )
    limits = providers.Singleton(
        Limits,
        max_message_bytes=settings.provided.limits.max_message_bytes,
        max_batch_messages=settings.provided.limits.max_batch_messages,
        max_batch_bytes=settings.provided.limits.max_batch_bytes,
    )
    group_settings = providers.Singleton(
        GroupSettings,
        heartbeat_interval_seconds=settings.provided.groups.heartbeat_interval_seconds,
        session_timeout_seconds=settings.provided.groups.session_timeout_seconds,
    )
    auto_create = providers.Singleton(
        topics_created_on_publish,
        enabled=settings.provided.topics.auto_create,
        partitions=settings.provided.topics.default_partitions,
    )
    broker = providers.Singleton(
        build_broker,
        storage=storage,
        clock=clock,
        metrics=metrics,
        limits=limits,
        group_settings=group_settings,
        tracer=tracer,
        auto_create=auto_create,
    )
    tokens = providers.Singleton(token_store, auth=settings.provided.auth)
    rate_limiter = providers.Singleton(
        caller_rate_limiter,
        rate_per_second=settings.provided.limits.rate_per_second,
        burst=settings.provided.limits.rate_burst,
    )
    grpc_server = providers.Singleton(
        grpc_server,
        settings=settings,
        broker=broker,
        clock=clock,
        tokens=tokens,
        limiter=rate_limiter,
        prometheus=prometheus,
        provider=tracer_provider,
    )
    http_client = providers.Resource(open_http_client)
    push = providers.Singleton(
        PushDispatcher,
        broker=broker,
        client=http_client,
        concurrency=settings.provided.push.concurrency,
        timeout_seconds=settings.provided.push.timeout_seconds,
    )
    runner = providers.Singleton(
        BackgroundRunner,
        broker=broker,
        interval_seconds=settings.provided.broker.duty_interval_seconds,
        push=push,
        gauges=storage_gauges,
        gauge_interval_seconds=settings.provided.metrics.refresh_seconds,
    )


def build_container(settings: Settings) -> Container:
    """A container configured from ``settings``."""
    return Container(settings=settings)


def api_routes(console_enabled: bool = False) -> list[RouteTable]:
    """Every route the broker serves over HTTP, in the order the OpenAPI document lists them
    (and the web console's files, when it is enabled, which the document leaves out)."""
    tables = [
        system.routes,
        identity.routes,
        topics.routes,
        subscriptions.routes,
        events.routes,
        dead_letters.routes,
        members.routes,
        health.routes,
        legacy.routes,
        websocket.routes,
    ]
    return [*tables, console.routes] if console_enabled else tables


#: The pattern of the message ids each storage backend issues, for the document.
MESSAGE_IDS = {
    "memory": memory_ids.ID_PATTERN,
    "redis": redis_ids.ID_PATTERN,
    "postgres": postgres_ids.ID_PATTERN,
    "sqlite": sqlite_ids.ID_PATTERN,
}


def api_app(container: Container) -> web.Application:
    """The aiohttp application of the broker that ``container`` describes."""
    settings = container.settings()
    callers = Callers(tokens=container.tokens(), rate_limiter=container.rate_limiter())
    tables = api_routes(settings.console.enabled)
    message_ids = MESSAGE_IDS[settings.storage.backend]
    return create_app(settings, tables, lambda: _running(container), callers, message_ids)


@asynccontextmanager
async def _running(container: Container) -> AsyncIterator[ApiParts]:
    """The container's resources opened (storage connects), the parts resolved and the gRPC
    listener started beside HTTP; on exit gRPC stops, then the resources shut, also when
    starting failed half-way."""
    try:
        await _maybe(container.init_resources())
        storage = await _resolve(container.storage)
        runner = await _resolve(container.runner)
        parts = ApiParts(
            broker=await _resolve(container.broker),
            connection=storage.connection,
            rates=container.rates(),
            observability=await _resolve(container.observability),
            metrics_registry=container.metrics_registry(),
            background=runner,
        )
        async with _grpc_listening(container):
            yield parts
    finally:
        await _maybe(container.shutdown_resources())


@asynccontextmanager
async def _grpc_listening(container: Container) -> AsyncIterator[None]:
    """The gRPC listener serving while the HTTP app does (none when ``grpc.port`` is 0);
    stopped before storage closes, so that its streams leave their groups first."""
    listener = await _resolve(container.grpc_server)
    if listener is None:
        yield
        return
    await listener.start()
    try:
        yield
    finally:
        await listener.aclose()


async def _maybe(result: Awaitable[None] | None) -> None:
    if result is not None:
        await result


async def _resolve(provider: providers.Provider[T]) -> T:
    """The provider's object; one that depends on an async resource gives an awaitable."""
    value: T | Awaitable[T] = provider()
    if inspect.isawaitable(value):
        return await value
    return value
