"""create_app: the aiohttp application that hosts the edges' routes, with its middlewares
and lifecycle. Which routes it serves, and the parts they use, are handed to it."""

from __future__ import annotations

import asyncio
import itertools
import logging
import weakref
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from aiohttp import WSCloseCode, web
from prometheus_client.registry import CollectorRegistry

from pubsubgo import __version__
from pubsubgo.adapters.http.middleware import cors_middleware, error_middleware
from pubsubgo.adapters.http.observability import (
    OBSERVABILITY,
    Observability,
    observability_middleware,
)
from pubsubgo.adapters.prometheus.endpoint import MetricsListener
from pubsubgo.adapters.wire.api import RouteTable, add_routes
from pubsubgo.adapters.wire.background import drain
from pubsubgo.adapters.wire.guard import GUARD, Guard, guard_middleware
from pubsubgo.adapters.wire.keys import (
    BACKGROUND,
    BROKER,
    CONNECTION,
    METRICS_REGISTRY,
    OPENAPI,
    RATES,
    SETTINGS,
    SOCKETS,
    STREAMS,
)
from pubsubgo.adapters.wire.ratelimit import RateLimiter
from pubsubgo.adapters.wire.schemas.fields import MESSAGE_ID_REGEX
from pubsubgo.adapters.wire.schemas.openapi import openapi_document
from pubsubgo.adapters.wire.tokens import TokenStore
from pubsubgo.config import Settings
from pubsubgo.ports.storage import StorageConnection
from pubsubgo.runtime.rates import RateMetrics
from pubsubgo.services.broker import Broker

logger = logging.getLogger(__name__)


class BackgroundWork(Protocol):
    """What runs beside the requests for as long as the app serves (the periodic duties)."""

    def start(self) -> None:
        """Start it in the background."""
        ...

    async def aclose(self) -> None:
        """Stop it and wait for it."""
        ...


@dataclass(frozen=True, slots=True)
class ApiParts:
    """What the routes use, built once the event loop runs (storage connects then)."""

    broker: Broker
    connection: StorageConnection
    rates: RateMetrics
    observability: Observability
    metrics_registry: CollectorRegistry
    background: BackgroundWork


#: Opens the parts when the app starts and closes them when it has stopped.
PartsOpener = Callable[[], AbstractAsyncContextManager[ApiParts]]


@dataclass(frozen=True, slots=True)
class Callers:
    """Who may call: the known tokens (None: authentication off) and the per-caller rate
    (None: unlimited)."""

    tokens: TokenStore | None = None
    rate_limiter: RateLimiter | None = None


def create_app(
    settings: Settings,
    tables: Sequence[RouteTable],
    open_parts: PartsOpener,
    callers: Callers | None = None,
    message_ids: str = MESSAGE_ID_REGEX,
) -> web.Application:
    """The broker's aiohttp application serving ``tables``; ``message_ids`` is the pattern
    of the storage backend's message ids, which the document states.

    The parts are opened, and the background work started, when the app starts; on
    shutdown sockets are closed with GOING_AWAY, async publishes drained, the background
    work stopped and the parts closed, in that order.
    """
    callers = callers or Callers()
    operations = list(itertools.chain.from_iterable(tables))
    app = web.Application(
        middlewares=[
            observability_middleware,
            cors_middleware(settings.server.allowed_origins),
            error_middleware,
            guard_middleware,
        ],
        client_max_size=settings.limits.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[GUARD] = Guard.build(
        callers.tokens,
        callers.rate_limiter,
        settings.server.request_timeout_seconds,
        operations,
        settings.server.allowed_origins,
    )
    app[SOCKETS] = weakref.WeakSet()
    app[STREAMS] = set()
    app[BACKGROUND] = set()
    add_routes(app.router, tables)
    app[OPENAPI] = openapi_document(
        [operation for table in tables if table.documented for operation in table],
        title="PubSubGo",
        version=__version__,
        description="Topics, subscriptions and consumer groups over HTTP and WebSocket.",
        message_ids=message_ids,
    )
    app.cleanup_ctx.append(_lifecycle(open_parts))
    app.on_shutdown.append(_close_sockets)
    app.on_shutdown.append(_end_streams)
    return app


def _lifecycle(
    open_parts: PartsOpener,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        async with open_parts() as parts:
            app[BROKER] = parts.broker
            app[CONNECTION] = parts.connection
            app[RATES] = parts.rates
            app[OBSERVABILITY] = parts.observability
            app[METRICS_REGISTRY] = parts.metrics_registry
            listener = await _metrics_listener(app[SETTINGS], parts.metrics_registry)
            parts.background.start()
            try:
                yield
            finally:
                await drain(app, app[SETTINGS].server.shutdown_timeout_seconds)
                await parts.background.aclose()
                if listener is not None:
                    await listener.aclose()

    return lifecycle


async def _close_sockets(app: web.Application) -> None:
    """``on_shutdown``: tell every WebSocket client the server is going away.

    Runs before the lifecycle closes the parts, so sockets leave their groups while storage
    is still there.
    """
    open_sockets = app[SOCKETS]
    sockets = list(open_sockets)
    await asyncio.gather(
        *(ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown") for ws in sockets),
        return_exceptions=True,
    )


async def _end_streams(app: web.Application) -> None:
    """``on_shutdown``: end every event stream; each leaves its group as it ends."""
    for stop in app[STREAMS]:
        stop.set()


async def _metrics_listener(
    settings: Settings, registry: CollectorRegistry
) -> MetricsListener | None:
    """The metrics port's own listener, when metrics are on and a port is set."""
    if not (settings.metrics.enabled and settings.metrics.port):
        return None
    listener = MetricsListener(registry, settings.server.host, settings.metrics.port)
    await listener.start()
    return listener
