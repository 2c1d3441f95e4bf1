"""``pubsubgo-server``: load the settings, build the container, serve until SIGTERM."""

from __future__ import annotations

import asyncio
import errno
import gc
import logging
import os
import sys
from pathlib import Path
from typing import Annotated, Any

import prometheus_client
import typer
from aiohttp import web

from pubsubgo import __version__
from pubsubgo.adapters.prometheus.endpoint import MetricsPortUnavailable
from pubsubgo.adapters.wire.tls import server_tls
from pubsubgo.cli.workers import (
    PortUnavailable,
    Worker,
    check_supported,
    serve_worker,
    supervise,
)
from pubsubgo.config import ConfigError, Settings, load_settings
from pubsubgo.containers import api_app, build_container
from pubsubgo.core.errors import BackendError
from pubsubgo.log import setup_logging

logger = logging.getLogger("pubsubgo.server")

#: The exit code of a configuration error (like a usage error).
EXIT_CONFIG = 2
#: Why binding the listening socket fails: answered with one line and exit code 1.
BIND_ERRORS = frozenset({errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES})

CONFIG_HELP = "YAML configuration file (default: ./config.yaml when it exists)."
HOST_HELP = "Address to listen on (overrides server.host)."
PORT_HELP = "Port to listen on (overrides server.port)."
DATA_DIR_HELP = (
    "Keep everything in DIR/pubsubgo.db (created if missing): the SQLite backend, durable"
    " across restarts with no other service (overrides storage.backend and sqlite.path)."
)
#: Said at start on the memory backend, the default: where to go for durability.
MEMORY_HINT = (
    "storage is in memory: nothing is kept when the broker stops;"
    " --data-dir DIR keeps everything in DIR/pubsubgo.db"
)
#: The database file ``--data-dir`` names inside its directory.
DATA_DIR_FILE = "pubsubgo.db"
WORKERS_HELP = (
    "Broker processes sharing the port, one core each (overrides server.workers; Redis"
    " storage only). Worker i serves metrics on metrics.port + i."
)

VERSION_HELP = "Print the version and exit."

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
    workers: Annotated[int | None, typer.Option(help=WORKERS_HELP)] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help=VERSION_HELP)
    ] = False,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", metavar="DIR", help=DATA_DIR_HELP)
    ] = None,
) -> None:
    """Run the broker until SIGINT or SIGTERM, then drain and stop.

    A configuration error (a bad value, a backend this build lacks) exits with code 2 and
    one line on stderr; storage that cannot be opened (a damaged database file, one another
    broker holds) exits with code 1 and one line.
    """
    try:
        settings = load_settings(config, command_line_overrides(host, port, workers, data_dir))
        check_supported(settings)
        server_tls(settings.server)  # a bad certificate stops the server here, in one line
        setup_logging(settings.log.level, settings.log.format)
        # ``_created`` series double the series count for little use in dashboards.
        prometheus_client.disable_created_metrics()  # type: ignore[no-untyped-call]
        if settings.server.workers > 1:
            raise typer.Exit(_supervise(settings))
        _run(settings)
    except ConfigError as error:
        print(error, file=sys.stderr)
        raise typer.Exit(EXIT_CONFIG) from None
    except BackendError as error:
        print(f"cannot open storage: {error}", file=sys.stderr)
        raise typer.Exit(1) from None
    except MetricsPortUnavailable as error:
        print(error, file=sys.stderr)
        raise typer.Exit(1) from None
    except OSError as error:
        if error.errno not in BIND_ERRORS:
            raise
        # The port is taken or the address is not this host's: say so, not a traceback.
        if error.filename:  # the gRPC listener names its own address
            print(f"cannot listen on {error.filename}: {error.strerror}", file=sys.stderr)
            raise typer.Exit(1) from None
        print(
            f"cannot listen on {settings.server.host}:{settings.server.port} for the API"
            f" (server.port, PUBSUB_SERVER_PORT, --port): {os.strerror(error.errno).lower()}",
            file=sys.stderr,
        )
        raise typer.Exit(1) from None


def _print_version(asked: bool) -> None:
    if asked:
        print(f"pubsubgo-server {__version__}")
        raise typer.Exit()


def command_line_overrides(
    host: str | None, port: int | None, workers: int | None, data_dir: Path | None
) -> dict[str, Any]:
    """The settings the options name, as ``load_settings`` overrides: they win over the
    file and the environment."""
    given = {"host": host, "port": port, "workers": workers}
    server = {key: value for key, value in given.items() if value is not None}
    overrides: dict[str, Any] = {"server": server} if server else {}
    if data_dir is not None:
        overrides["storage"] = {"backend": "sqlite"}
        overrides["sqlite"] = {"path": data_dir / DATA_DIR_FILE}
    return overrides


def _supervise(settings: Settings) -> int:
    """Run the workers; the supervisor's exit code."""
    try:
        return supervise(settings, _run)
    except PortUnavailable as error:
        logger.error("%s", error)
        return 1


def _run(settings: Settings, worker: Worker | None = None) -> None:
    """Serve until a stop signal: the whole broker, or one of ``server.workers``."""
    container = build_container(settings)
    server = settings.server
    loop = _new_loop()
    if worker is not None:
        serve_worker(loop)

    # gRPC (DESIGN §4b) listens beside HTTP on the same host, unless grpc.port is 0.
    grpc = f" and gRPC on {server.host}:{settings.grpc.port}" if settings.grpc.port else ""

    def ready(_: str) -> None:
        if worker is None:
            logger.info(
                "pubsubgo listening on %s://%s:%d (storage: %s)%s",
                server.scheme, server.host, server.port, settings.storage.backend, grpc,
            )  # fmt: skip
            if settings.storage.backend == "memory":
                logger.info(MEMORY_HINT)
            return
        logger.info(
            "pubsubgo listening on %s://%s:%d (storage: %s; worker %d of %d, pid %d)%s",
            server.scheme, server.host, server.port, settings.storage.backend,
            worker.number, worker.count, os.getpid(), grpc,
            extra={"worker": worker.number, "pid": os.getpid()},
        )  # fmt: skip

    app = api_app(container)
    app.on_startup.append(_freeze_startup_objects)
    web.run_app(
        app,
        host=server.host,
        port=server.port,
        ssl_context=server_tls(server),
        shutdown_timeout=server.shutdown_timeout_seconds,
        print=ready,
        access_log=None,  # the observability middleware writes the access log
        loop=loop,
        # Workers bind one socket each on the shared port; serve_worker handles their signals.
        reuse_port=True if worker is not None else None,
        handle_signals=worker is None,
    )


async def _freeze_startup_objects(_: web.Application) -> None:
    """Move what exists once the broker is up (modules, the app, its storage) out of the
    garbage collector's reach: a full collection would otherwise walk those ~100k objects
    (tens of milliseconds, a pause every request in flight waits through) for garbage that
    is always made of objects created later."""
    gc.freeze()


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
