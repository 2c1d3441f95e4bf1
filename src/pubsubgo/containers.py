"""The composition root: the one place that knows every concrete class."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
from dependency_injector import containers, providers
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client.registry import CollectorRegistry

from pubsubgo.adapters.clock import SystemClock
from pubsubgo.adapters.grpc.calls import Edge
from pubsubgo.adapters.grpc.gate import Gate
from pubsubgo.adapters.grpc.metrics import GrpcMetrics
from pubsubgo.adapters.grpc.server import GrpcServer, Listening
from pubsubgo.adapters.http.observability import Observability
from pubsubgo.adapters.http.ratelimit import RateLimiter
from pubsubgo.adapters.http.tokens import TokenStore
from pubsubgo.adapters.memory import memory_storage
from pubsubgo.adapters.metrics_fanout import FanOutMetrics
from pubsubgo.adapters.prometheus.gauges import StorageGauges
from pubsubgo.adapters.prometheus.metrics import PrometheusMetrics
from pubsubgo.adapters.push import PushDispatcher
from pubsubgo.adapters.rates import RateMetrics
from pubsubgo.adapters.redis import build_client, close_storage, redis_storage
from pubsubgo.adapters.runner import BackgroundRunner
from pubsubgo.adapters.telemetry import OpenTelemetryTracer, otlp_exporter, tracer_provider
from pubsubgo.auth_config import AuthSettings
from pubsubgo.config import Settings
from pubsubgo.core.groups import GroupSettings
from pubsubgo.core.limits import Limits
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.metrics import BrokerMetrics
from pubsubgo.ports.storage import Storage
from pubsubgo.ports.tracing import MessageTracer
from pubsubgo.services.broker import Broker


async def open_storage(backend: str, redis_url: str) -> AsyncIterator[Storage]:
    """The configured storage backend, and only that one: a Selector of resources would open
    (connect) every branch when resources are initialised."""
    if backend != "redis":
        yield memory_storage()
        return
    client = build_client(redis_url)
    storage = redis_storage(client)
    try:
        yield storage
    finally:
        await close_storage(storage)
        await client.aclose()


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
    """The gRPC listener beside the HTTP one, or None when ``grpc.port`` is 0."""
    if not settings.grpc.port:
        return None
    server = settings.server
    listening = Listening(
        host=server.host,
        port=settings.grpc.port,
        max_message_bytes=settings.limits.max_body_bytes,
        shared_port=server.workers > 1,
        shutdown_seconds=server.shutdown_timeout_seconds,
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

    config = providers.Configuration(strict=True)
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    storage = providers.Resource(
        open_storage, backend=config.storage.backend, redis_url=config.redis.url
    )
    rates = providers.Singleton(RateMetrics)
    metrics_registry = providers.Singleton(CollectorRegistry)
    prometheus = providers.Singleton(PrometheusMetrics, registry=metrics_registry)
    storage_gauges = providers.Singleton(StorageGauges, registry=metrics_registry)
    metrics = providers.Singleton(
        broker_metrics, enabled=config.metrics.enabled, rates=rates, prometheus=prometheus
    )
    tracer_provider = providers.Resource(
        open_tracer_provider,
        enabled=config.tracing.enabled,
        endpoint=config.tracing.otlp_endpoint,
        service_name=config.tracing.service_name,
    )
    tracer = providers.Singleton(message_tracer, provider=tracer_provider)
    observability = providers.Singleton(
        http_observability,
        metrics_enabled=config.metrics.enabled,
        prometheus=prometheus,
        provider=tracer_provider,
        access_log=config.log.access,
    )
    limits = providers.Singleton(
        Limits,
        max_message_bytes=config.limits.max_message_bytes,
        max_batch_messages=config.limits.max_batch_messages,
        max_batch_bytes=config.limits.max_batch_bytes,
    )
    group_settings = providers.Singleton(
        GroupSettings,
        heartbeat_interval_seconds=config.groups.heartbeat_interval_seconds,
        session_timeout_seconds=config.groups.session_timeout_seconds,
    )
    broker = providers.Singleton(
        Broker.build,
        storage=storage,
        clock=clock,
        metrics=metrics,
        limits=limits,
        group_settings=group_settings,
        tracer=tracer,
    )
    # From the settings object itself: the tokens read from auth.tokens_file live there only.
    tokens = providers.Singleton(token_store, auth=settings.provided.auth)
    rate_limiter = providers.Singleton(
        caller_rate_limiter,
        rate_per_second=config.limits.rate_per_second,
        burst=config.limits.rate_burst,
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
        concurrency=config.push.concurrency,
        timeout_seconds=config.push.timeout_seconds,
    )
    runner = providers.Singleton(
        BackgroundRunner,
        broker=broker,
        interval_seconds=config.broker.duty_interval_seconds,
        push=push,
        gauges=storage_gauges,
        gauge_interval_seconds=config.metrics.refresh_seconds,
    )


def build_container(settings: Settings) -> Container:
    """A container configured from ``settings``."""
    container = Container(settings=settings)
    container.config.from_pydantic(settings)
    return container
