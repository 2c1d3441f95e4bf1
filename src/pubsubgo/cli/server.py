"""``pubsubgo-server``: load the settings, build the container, serve until SIGTERM."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import prometheus_client
import typer
from aiohttp import web

from pubsubgo.adapters.http.app import create_app
from pubsubgo.config import ConfigError, Settings, load_settings
from pubsubgo.containers import build_container
from pubsubgo.log import setup_logging

logger = logging.getLogger("pubsubgo.server")

#: The exit code of a configuration error (like a usage error).
EXIT_CONFIG = 2

CONFIG_HELP = "YAML configuration file (default: ./config.yaml when it exists)."
HOST_HELP = "Address to listen on (overrides server.host)."
PORT_HELP = "Port to listen on (overrides server.port)."

SERVE_HELP = (
    "Run the PubSubGo broker until SIGINT or SIGTERM, then drain and stop. "
    "A bad setting exits with code 2 and one line on stderr."
)

app = typer.Typer(add_completion=False)


@app.command(help=SERVE_HELP)
def serve(
    config: Annotated[
        Path | None, typer.Option("--config", envvar="PUBSUB_CONFIG", help=CONFIG_HELP)
    ] = None,
    host: Annotated[str | None, typer.Option(help=HOST_HELP)] = None,
    port: Annotated[int | None, typer.Option(help=PORT_HELP)] = None,
) -> None:
    """Run the broker until SIGINT or SIGTERM, then drain and stop.

    A configuration error (a bad value, a backend this build lacks) exits with code 2 and
    one line on stderr.
    """
    try:
        settings = load_settings(config, _overrides(host, port))
        setup_logging(settings.log.level, settings.log.format)
        # ``_created`` series double the series count for little use in dashboards.
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        _run(settings)
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise typer.Exit(EXIT_CONFIG) from None


def _overrides(host: str | None, port: int | None) -> dict[str, Any]:
    server: dict[str, Any] = {}
    if host is not None:
        server["host"] = host
    if port is not None:
        server["port"] = port
    return {"server": server} if server else {}


def _run(settings: Settings) -> None:
    container = build_container(settings)
    server = settings.server

    def ready(_: str) -> None:
        logger.info(
            "pubsubgo listening on http://%s:%d (storage: %s)",
            server.host, server.port, settings.storage.backend,
        )  # fmt: skip

    web.run_app(
        create_app(container),
        host=server.host,
        port=server.port,
        shutdown_timeout=server.shutdown_timeout_seconds,
        print=ready,
        access_log=None,  # the observability middleware writes the access log
        loop=_new_loop(),
    )


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop's loop when it is installed, asyncio's otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def main() -> None:
    """Console-script entry point."""
    app()
