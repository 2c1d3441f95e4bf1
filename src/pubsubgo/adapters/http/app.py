"""create_app: the aiohttp application, its routes, middlewares and lifecycle."""

from __future__ import annotations

import inspect
import itertools
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from dependency_injector import providers

from pubsubgo import __version__
from pubsubgo.adapters.http.api import RouteTable, add_routes
from pubsubgo.adapters.http.background import drain
from pubsubgo.adapters.http.guard import GUARD, Guard, guard_middleware
from pubsubgo.adapters.http.keys import (
    BACKGROUND,
    BROKER,
    METRICS_REGISTRY,
    OPENAPI,
    RATES,
    SETTINGS,
    SOCKETS,
)
from pubsubgo.adapters.http.middleware import cors_middleware, error_middleware
from pubsubgo.adapters.http.observability import OBSERVABILITY, observability_middleware
from pubsubgo.adapters.http.routes import legacy, members, subscriptions, system, topics
from pubsubgo.adapters.http.schemas.openapi import openapi_document
from pubsubgo.adapters.prometheus.endpoint import MetricsListener
from pubsubgo.adapters.websocket import handler as websocket
from pubsubgo.adapters.websocket.connections import close_sockets
from pubsubgo.containers import Container

logger = logging.getLogger(__name__)

T = TypeVar("T")

#: Every route of the API, in the order the OpenAPI document lists them.
ROUTE_TABLES: list[RouteTable] = [
    system.routes,
    topics.routes,
    subscriptions.routes,
    members.routes,
    legacy.routes,
    websocket.routes,
]


def create_app(container: Container) -> web.Application:
    """The broker's aiohttp application.

    Resources are initialised, and the background runner started, when the app starts;
    on shutdown sockets are closed with GOING_AWAY, async publishes drained, the runner
    stopped and resources shut, in that order.
    """
    settings = container.settings()
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
    app[GUARD] = _guard(container)
    app[SOCKETS] = weakref.WeakSet()
    app[BACKGROUND] = set()
    add_routes(app.router, ROUTE_TABLES)
    app[OPENAPI] = openapi_document(
        itertools.chain.from_iterable(ROUTE_TABLES),
        title="PubSubGo",
        version=__version__,
        description="Topics, subscriptions and consumer groups over HTTP and WebSocket.",
    )
    app.cleanup_ctx.append(_lifecycle(container))
    app.on_shutdown.append(close_sockets)
    return app


def _guard(container: Container) -> Guard:
    """What the guard middleware checks every route against."""
    return Guard.build(
        container.tokens(),
        container.rate_limiter(),
        container.settings().server.request_timeout_seconds,
        itertools.chain.from_iterable(ROUTE_TABLES),
    )


def _lifecycle(
    container: Container,
) -> Callable[[web.Application], AsyncIterator[None]]:
    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        initialising = container.init_resources()
        if initialising is not None:
            await initialising
        try:
            app[BROKER] = await _resolve(container.broker)
            app[RATES] = await _resolve(container.rates)
            app[OBSERVABILITY] = await _resolve(container.observability)
            app[METRICS_REGISTRY] = container.metrics_registry()
            container.prometheus().websocket_limit.set(app[SETTINGS].limits.max_websockets)
            listener = await _metrics_listener(container)
            runner = await _resolve(container.runner)
            runner.start()
            try:
                yield
            finally:
                await drain(app, app[SETTINGS].server.shutdown_timeout_seconds)
                await runner.aclose()
                if listener is not None:
                    await listener.aclose()
        finally:
            # Also when startup failed half-way (e.g. a backend that cannot be built).
            shutting = container.shutdown_resources()
            if shutting is not None:
                await shutting

    return lifecycle


async def _metrics_listener(container: Container) -> MetricsListener | None:
    """The metrics port's own listener, when metrics are on and a port is set."""
    settings = container.settings()
    if not (settings.metrics.enabled and settings.metrics.port):
        return None
    listener = MetricsListener(
        container.metrics_registry(), settings.server.host, settings.metrics.port
    )
    await listener.start()
    return listener


async def _resolve(provider: providers.Provider[T]) -> T:
    """The provider's object; one that depends on an async resource gives an awaitable."""
    value: T | Awaitable[T] = provider()
    if inspect.isawaitable(value):
        return await value
    return value
