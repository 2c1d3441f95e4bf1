"""The ``/metrics`` endpoint, on the API port and on a listener of its own."""

from __future__ import annotations

import asyncio
import logging
import os

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import CollectorRegistry

logger = logging.getLogger(__name__)


async def exposition(registry: CollectorRegistry) -> web.Response:
    """The registry in Prometheus' text format.

    Collecting walks every series; it runs in a thread so that a scrape of a broker with
    many topics does not stall the event loop.
    """
    body = await asyncio.to_thread(generate_latest, registry)
    response = web.Response(body=body)
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    return response


class MetricsPortUnavailable(Exception):
    """Raised when the metrics port cannot be bound; ``str()`` is one line that names the
    port and the setting, so a clash is never mistaken for one on the API port."""

    def __init__(self, host: str, port: int, error: OSError) -> None:
        reason = os.strerror(error.errno).lower() if error.errno else str(error)
        super().__init__(
            f"cannot listen on {host}:{port} for metrics (metrics.port, PUBSUB_METRICS_PORT;"
            f" 0 = /metrics on the API port only): {reason}"
        )


class MetricsListener:
    """A small HTTP server answering ``GET /metrics`` on the metrics port."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._registry = registry
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen, so that a misconfiguration is loud.

        Raises:
            MetricsPortUnavailable: the port is taken or the address is not this host's.
        """
        app = web.Application()
        app.router.add_get("/metrics", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        try:
            await web.TCPSite(self._runner, self._host, self._port).start()
        except OSError as error:
            await self.aclose()
            raise MetricsPortUnavailable(self._host, self._port, error) from error
        logger.info("metrics on http://%s:%d/metrics", self._host, self._port)

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve(self, request: web.Request) -> web.Response:
        return await exposition(self._registry)
