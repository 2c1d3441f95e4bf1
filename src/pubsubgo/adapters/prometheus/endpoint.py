"""The ``/metrics`` endpoint, on the API port and on a listener of its own."""

from __future__ import annotations

import asyncio
import logging

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


class MetricsListener:
    """A small HTTP server answering ``GET /metrics`` on the metrics port."""

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._registry = registry
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        """Listen; raises OSError when the port is taken, so a misconfiguration is loud."""
        app = web.Application()
        app.router.add_get("/metrics", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self._host, self._port).start()
        logger.info("metrics on http://%s:%d/metrics", self._host, self._port)

    async def aclose(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve(self, request: web.Request) -> web.Response:
        return await exposition(self._registry)
