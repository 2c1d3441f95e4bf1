"""``pubsub-cli topics``: list, create, describe and delete topics."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from pubsubgo.cli.context import cli_context
from pubsubgo.cli.output import print_fields, print_json, print_table, say
from pubsubgo.cli.runner import call
from pubsubgo.client.models import Topic

app = typer.Typer(help="Create, list, describe and delete topics.", no_args_is_help=True)

NAME_HELP = "The topic's name: letters, digits, '.', '_' or '-'."
PARTITIONS_HELP = "Partitions (1-256); messages with the same key share one."
RETENTION_HELP = "Seconds a message is kept (default: 7 days)."
MAX_MESSAGES_HELP = "Most messages kept; 0 keeps any number."
OVERFLOW_HELP = "When full: reject publishes, or drop the oldest messages."
DEDUP_HELP = "Seconds a dedup id is remembered (default 120)."
COMPRESSION_HELP = "Compress stored payloads of at least --compression-min-bytes."
FORCE_HELP = "Delete the topic's subscriptions too."

TOPIC_COLUMNS = ["NAME", "PARTITIONS", "RETENTION (S)", "MAX MESSAGES", "COMPRESSION", "CREATED"]


class OverflowChoice(StrEnum):
    """What a full topic does."""

    REJECT = "reject"
    DROP_OLDEST = "drop_oldest"


class CompressionChoice(StrEnum):
    """How stored payloads are compressed."""

    NONE = "none"
    SNAPPY = "snappy"
    LZ4 = "lz4"


def _row(topic: Topic) -> list[object]:
    return [
        topic.name, topic.partitions, topic.retention_seconds,
        topic.max_messages or "unbounded", topic.compression, topic.created_at,
    ]  # fmt: skip


@app.command("list")
def list_topics(ctx: typer.Context) -> None:
    """List every topic."""
    cli = cli_context(ctx)
    topics = call(cli, lambda client: client.topics.list())
    if cli.json:
        print_json(topics)
    else:
        print_table(None, TOPIC_COLUMNS, (_row(t) for t in topics))


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help=NAME_HELP)],
    partitions: Annotated[int | None, typer.Option(help=PARTITIONS_HELP, min=1)] = None,
    retention: Annotated[int | None, typer.Option(help=RETENTION_HELP, min=1)] = None,
    max_messages: Annotated[int | None, typer.Option(help=MAX_MESSAGES_HELP, min=0)] = None,
    overflow: Annotated[OverflowChoice | None, typer.Option(help=OVERFLOW_HELP)] = None,
    dedup_window: Annotated[int | None, typer.Option(help=DEDUP_HELP, min=0)] = None,
    compression: Annotated[CompressionChoice | None, typer.Option(help=COMPRESSION_HELP)] = None,
    compression_min_bytes: Annotated[int | None, typer.Option(min=0)] = None,
) -> None:
    """Create a topic (exit code 5 if it exists)."""
    cli = cli_context(ctx)
    topic = call(
        cli,
        lambda client: client.topics.create(
            name, partitions=partitions, retention_seconds=retention,
            max_messages=max_messages, overflow=None if overflow is None else overflow.value,
            dedup_window_seconds=dedup_window,
            compression=None if compression is None else compression.value,
            compression_min_bytes=compression_min_bytes,
        ),
    )  # fmt: skip
    if cli.json:
        print_json(topic)
    else:
        say(f"created topic {topic.name} ({topic.partitions} partition(s))")


@app.command()
def describe(ctx: typer.Context, name: Annotated[str, typer.Argument(help=NAME_HELP)]) -> None:
    """Show a topic's settings and statistics."""
    cli = cli_context(ctx)
    found = call(cli, lambda client: client.topics.describe(name))
    if cli.json:
        print_json(found)
    else:
        print_fields(f"topic {found.name}", found, skip={"stats.topic"})


@app.command()
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help=NAME_HELP)],
    force: Annotated[bool, typer.Option("--force", help=FORCE_HELP)] = False,
) -> None:
    """Delete a topic (exit code 5 while it has subscriptions, unless --force)."""
    cli = cli_context(ctx)
    call(cli, lambda client: client.topics.delete(name, force=force))
    if cli.json:
        print_json({"deleted": name})
    else:
        say(f"deleted topic {name}")
