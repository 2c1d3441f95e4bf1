"""``pubsub-cli``: the command line of the broker, one typer sub-app per command group.

Every command is synchronous and runs its work with ``asyncio.run`` (typer has no async
commands); nothing connects or reads the environment before a command runs.
"""

from __future__ import annotations

from typing import Annotated

import typer

from pubsubgo import __version__
from pubsubgo.cli.commands import bench, consume, groups, publish, subscriptions, topics
from pubsubgo.cli.context import DEFAULT_SERVER, CliContext, OutputFormat, checked_server

SERVER_HELP = "The broker's base URL (http:// or https://; a bare host:port is http)."
TOKEN_HELP = "Bearer token sent with every request."
OUTPUT_HELP = "table for people, json for programs."
GRPC_HELP = (
    "Use the broker's gRPC API; --server is then the gRPC listener's host:port"
    " (e.g. localhost:50051)."
)

app = typer.Typer(
    name="pubsub-cli",
    help="Manage and use a PubSubGo broker: topics, subscriptions, publish, consume, bench.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich's panels print flags as ``--ordered <bool>``, as if
    # they took a value, and box a usage error over several lines.
    rich_markup_mode=None,
)
app.add_typer(topics.app, name="topics")
app.add_typer(subscriptions.app, name="subscriptions")
app.add_typer(groups.app, name="groups")
app.command("publish")(publish.publish)
app.command("consume")(consume.consume)
app.command("bench")(bench.bench)


def _version(show: bool) -> None:
    if show:
        print(f"pubsub-cli {__version__}")
        raise typer.Exit


@app.callback()
def options(
    ctx: typer.Context,
    server: Annotated[
        str,
        typer.Option(
            "--server", "-s", envvar="PUBSUB_SERVER", help=SERVER_HELP, callback=checked_server
        ),
    ] = DEFAULT_SERVER,
    token: Annotated[
        str | None, typer.Option("--token", envvar="PUBSUB_TOKEN", help=TOKEN_HELP)
    ] = None,
    output: Annotated[OutputFormat, typer.Option("--output", "-o", help=OUTPUT_HELP)] = (
        OutputFormat.TABLE
    ),
    grpc: Annotated[bool, typer.Option("--grpc", help=GRPC_HELP)] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Global options, given before the command: ``pubsub-cli --server URL topics list``."""
    ctx.obj = CliContext(server=server, token=token, output=output, grpc=grpc)


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
