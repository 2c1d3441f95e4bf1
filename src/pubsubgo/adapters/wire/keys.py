"""Typed application state: what handlers find in ``request.app``."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from aiohttp import web
from prometheus_client.registry import CollectorRegistry

from pubsubgo.config import Settings
from pubsubgo.ports.storage import StorageConnection
from pubsubgo.runtime.rates import RateMetrics
from pubsubgo.services.broker import Broker

#: The driving API every handler calls.
BROKER = web.AppKey("broker", Broker)
#: Whether storage answers, for the readiness probe.
CONNECTION = web.AppKey("connection", StorageConnection)
#: The settings the app was built with (limits, CORS, WebSocket heartbeat).
SETTINGS = web.AppKey("settings", Settings)
#: Publish and consume rates for the stats routes.
RATES = web.AppKey("rates", RateMetrics)
#: Work that outlives its request (``?async=true`` publishes, closing sockets): kept so that
#: none is lost or left unawaited.
BACKGROUND = web.AppKey("background", set[asyncio.Task[Any]])
#: Open WebSockets, closed with GOING_AWAY on shutdown.
SOCKETS = web.AppKey("sockets", weakref.WeakSet[web.WebSocketResponse])
#: Open event streams' stop signals, set on shutdown.
STREAMS = web.AppKey("streams", set[asyncio.Event])
#: The Prometheus registry that ``/metrics`` exposes.
METRICS_REGISTRY = web.AppKey("metrics_registry", CollectorRegistry)
#: The OpenAPI document, built once.
OPENAPI = web.AppKey("openapi", dict[str, Any])
