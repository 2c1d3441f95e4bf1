"""The global options of ``pubsub-cli``, handed to every command through typer's context."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

import typer

from pubsubgo.client import Client, GrpcClient

#: Either transport: the two clients have the same surface (``GrpcClient`` says which parts).
AnyClient = Client | GrpcClient

#: Where the CLI looks for a broker when neither ``--server`` nor ``PUBSUB_SERVER`` says.
DEFAULT_SERVER = "http://localhost:8081"


class OutputFormat(StrEnum):
    """How results are printed."""

    #: Tables and sentences for people.
    TABLE = "table"
    #: JSON on stdout, for programs (``jq``).
    JSON = "json"


@dataclass(frozen=True, slots=True)
class CliContext:
    """What the global options said."""

    server: str
    token: str | None
    output: OutputFormat
    #: Talk gRPC to ``server`` (``host:port`` of the gRPC listener) instead of REST.
    grpc: bool = False

    @property
    def json(self) -> bool:
        """True when results are printed as JSON."""
        return self.output is OutputFormat.JSON

    def client(self) -> AnyClient:
        """A client of the chosen broker and transport (use it with ``async with``)."""
        if self.grpc:
            return GrpcClient(self.server, self.token)
        return Client(self.server, self.token)


def checked_server(url: str) -> str:
    """``--server`` as given, once it names an HTTP broker: a bare ``host:port`` is http.

    Raises:
        typer.BadParameter: another scheme (``htp://``, ``ws://``), no host, or a URL that
            ends in ``/v1``, which every request adds itself (exit code 2).
    """
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in ("http", "https"):
        raise typer.BadParameter(f"{url!r} is not an http:// or https:// URL")
    if not parts.hostname:
        raise typer.BadParameter(f"{url!r} names no host")
    if parts.path.rstrip("/").endswith("/v1"):
        base = url.rstrip("/").removesuffix("/v1")
        raise typer.BadParameter(f"give the broker's base URL without /v1: {base}")
    return url


def cli_context(ctx: typer.Context) -> CliContext:
    """The global options, set by the main callback."""
    found = ctx.find_object(CliContext)
    if found is None:  # a command run without the main app (a test calling it directly)
        return CliContext(DEFAULT_SERVER, None, OutputFormat.TABLE)
    return found
