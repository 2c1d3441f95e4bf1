"""``pubsub-cli subscriptions``: list, create, describe, delete, seek and redrive."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

import typer

from pubsubgo.cli.context import cli_context
from pubsubgo.cli.output import print_fields, print_json, print_table, say
from pubsubgo.cli.runner import call
from pubsubgo.client.models import RetryPolicy, Subscription

app = typer.Typer(
    help="Create, list, describe and delete subscriptions; seek and redrive them.",
    no_args_is_help=True,
)

NAME_HELP = "The subscription's name."
TOPIC_HELP = "The topic it receives from."
DEADLINE_HELP = "Seconds to ack a delivery before it is redelivered (1-600; default 30)."
ATTEMPTS_HELP = "Deliveries before a message is dead-lettered; 0 = unlimited."
DLT_HELP = "Where messages go after --max-delivery-attempts."
FILTER_HELP = "Only messages whose attributes match, e.g. 'attributes.region = \"eu\"'."
ORDERED_HELP = "Deliver each key's messages one at a time, in order."
START_HELP = "Where a new subscription starts: every stored message, or new ones only."
EPHEMERAL_HELP = "Delete the subscription when its last consumer leaves."
IN_FLIGHT_HELP = "Unacked messages per consumer (default 1000)."
PUSH_HELP = "Push each message to this URL instead of waiting for pulls."
BACKOFF_HELP = "Retry backoff bounds in seconds, e.g. --min-backoff 1 --max-backoff 60."
TO_HELP = "Seek to the earliest stored message or past the latest."
TIME_HELP = "Seek to a time (RFC 3339, e.g. 2024-05-01T12:00:00Z)."

SUBSCRIPTION_COLUMNS = ["NAME", "TOPIC", "TYPE", "ACK DEADLINE (S)", "FILTER", "ORDERED", "CREATED"]


class Position(StrEnum):
    """Ends of a subscription's topic."""

    EARLIEST = "earliest"
    LATEST = "latest"


def _row(sub: Subscription) -> list[object]:
    return [
        sub.name, sub.topic, sub.type, sub.ack_deadline_seconds,
        sub.filter or None, sub.ordered, sub.created_at,
    ]  # fmt: skip


@app.command("list")
def list_subscriptions(
    ctx: typer.Context,
    topic: Annotated[str | None, typer.Option(help="Only this topic's subscriptions.")] = None,
) -> None:
    """List subscriptions."""
    cli = cli_context(ctx)
    found = call(cli, lambda client: client.subscriptions.list(topic))
    if cli.json:
        print_json(found)
    else:
        print_table(None, SUBSCRIPTION_COLUMNS, (_row(s) for s in found))


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help=NAME_HELP)],
    topic: Annotated[str, typer.Option(help=TOPIC_HELP)],
    ack_deadline: Annotated[float | None, typer.Option(help=DEADLINE_HELP)] = None,
    max_delivery_attempts: Annotated[int | None, typer.Option(help=ATTEMPTS_HELP)] = None,
    dead_letter_topic: Annotated[str | None, typer.Option(help=DLT_HELP)] = None,
    filter: Annotated[str | None, typer.Option(help=FILTER_HELP)] = None,
    ordered: Annotated[bool, typer.Option("--ordered", help=ORDERED_HELP)] = False,
    start: Annotated[Position | None, typer.Option(help=START_HELP)] = None,
    ephemeral: Annotated[bool, typer.Option("--ephemeral", help=EPHEMERAL_HELP)] = False,
    max_in_flight: Annotated[int | None, typer.Option(help=IN_FLIGHT_HELP, min=1)] = None,
    push_endpoint: Annotated[str | None, typer.Option(help=PUSH_HELP)] = None,
    min_backoff: Annotated[float, typer.Option(help=BACKOFF_HELP)] = 1.0,
    max_backoff: Annotated[float, typer.Option(help=BACKOFF_HELP)] = 60.0,
) -> None:
    """Create a subscription to a topic (exit code 4 if the topic is missing)."""
    cli = cli_context(ctx)
    created = call(
        cli,
        lambda client: client.subscriptions.create(
            name, topic, type="push" if push_endpoint else None, push_endpoint=push_endpoint,
            ack_deadline_seconds=ack_deadline, retry_policy=RetryPolicy(min_backoff, max_backoff),
            max_delivery_attempts=max_delivery_attempts, dead_letter_topic=dead_letter_topic,
            filter=filter, ordered=ordered or None, start=None if start is None else start.value,
            durable=False if ephemeral else None, max_in_flight=max_in_flight,
        ),
    )  # fmt: skip
    if cli.json:
        print_json(created)
    else:
        say(f"created subscription {created.name} on topic {created.topic}")


@app.command()
def describe(ctx: typer.Context, name: Annotated[str, typer.Argument(help=NAME_HELP)]) -> None:
    """Show a subscription's settings, backlog, in-flight count and group."""
    cli = cli_context(ctx)
    found = call(cli, lambda client: client.subscriptions.describe(name))
    if cli.json:
        print_json(found)
        return
    print_fields(f"subscription {found.name}", found, skip={"members"})
    if found.members:
        rows = ([m.member_id, m.assignment, m.last_heartbeat] for m in found.members)
        print_table("members", ["MEMBER", "PARTITIONS", "LAST HEARTBEAT"], rows)


@app.command()
def delete(ctx: typer.Context, name: Annotated[str, typer.Argument(help=NAME_HELP)]) -> None:
    """Delete a subscription."""
    cli = cli_context(ctx)
    call(cli, lambda client: client.subscriptions.delete(name))
    if cli.json:
        print_json({"deleted": name})
    else:
        say(f"deleted subscription {name}")


@app.command()
def seek(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help=NAME_HELP)],
    to: Annotated[Position | None, typer.Option(help=TO_HELP)] = None,
    time: Annotated[str | None, typer.Option(help=TIME_HELP)] = None,
) -> None:
    """Move a subscription to the earliest or latest message, or to a time."""
    if (to is None) == (time is None):
        raise typer.BadParameter("give exactly one of --to and --time")
    cli = cli_context(ctx)
    position: Literal["earliest", "latest"] | None = None if to is None else to.value
    when = None if time is None else _parse_time(time)
    call(cli, lambda client: client.subscriptions.seek(name, position=position, timestamp=when))
    target = position or time or ""
    if cli.json:
        print_json({"subscription": name, "seeked_to": target})
    else:
        say(f"subscription {name} now at {target}")


@app.command()
def redrive(ctx: typer.Context, name: Annotated[str, typer.Argument(help=NAME_HELP)]) -> None:
    """Move the messages a subscription dead-lettered back to it."""
    cli = cli_context(ctx)
    moved = call(cli, lambda client: client.subscriptions.redrive(name))
    if cli.json:
        print_json({"subscription": name, "moved": moved})
    else:
        say(f"moved {moved} message(s) back to {name}")


def _parse_time(text: str) -> datetime:
    """An RFC 3339 time; without an offset it is taken as UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is not a time like 2024-05-01T12:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
