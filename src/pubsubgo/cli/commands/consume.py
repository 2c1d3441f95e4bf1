"""``pubsub-cli consume``: print a subscription's messages as they arrive (WebSocket)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from pubsubgo.cli.context import CliContext, cli_context
from pubsubgo.cli.output import jsonable, note, print_json
from pubsubgo.cli.runner import run
from pubsubgo.client import GrpcStreamMessage, ReceivedMessage, StreamMessage
from pubsubgo.client.asyncio import DEFAULT_RECONNECT
from pubsubgo.client.messages import encode_data

#: Without --follow, consume stops once no message has come for this long: the backlog is
#: drained.
DEFAULT_IDLE_SECONDS = 2.0

SUB_HELP = "The subscription to consume."
MAX_HELP = "Stop after this many messages."
FOLLOW_HELP = "Keep waiting for new messages (until --max or Ctrl-C), reconnecting if needed."
NO_ACK_HELP = "Do not ack: the messages are redelivered once this consumer leaves."
JSON_HELP = "One JSON object per message and line (like --output json)."
WAIT_HELP = "Without --follow: stop after this many seconds without a message."
IN_FLIGHT_HELP = "At most this many unacked messages at once."


def consume(
    ctx: typer.Context,
    subscription: Annotated[str, typer.Argument(help=SUB_HELP)],
    max_messages: Annotated[int | None, typer.Option("--max", help=MAX_HELP, min=1)] = None,
    follow: Annotated[bool, typer.Option("--follow", "-F", help=FOLLOW_HELP)] = False,
    no_ack: Annotated[bool, typer.Option("--no-ack", help=NO_ACK_HELP)] = False,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    wait: Annotated[float, typer.Option(help=WAIT_HELP, min=0)] = DEFAULT_IDLE_SECONDS,
    max_in_flight: Annotated[int | None, typer.Option(help=IN_FLIGHT_HELP, min=1)] = None,
) -> None:
    """Receive messages over a WebSocket, print them, and ack them (unless --no-ack).

    Without --follow it stops when the subscription is drained (nothing for --wait
    seconds) or after --max messages; Ctrl-C stops it at any time (exit code 130).
    """
    cli = cli_context(ctx)
    json_lines = as_json or cli.json
    run(_consume(cli, subscription, max_messages, follow, no_ack, json_lines, wait, max_in_flight))


async def _consume(
    cli: CliContext, subscription: str, limit: int | None, follow: bool,
    no_ack: bool, json_lines: bool, wait: float, max_in_flight: int | None,
) -> int:  # fmt: skip
    received = 0
    async with cli.client() as client:
        # Asked over REST first: a missing subscription or a refused token is answered with
        # its HTTP status (docs/cli.md), which a WebSocket error frame does not carry.
        await client.subscriptions.describe(subscription)
        # Only a --follow consumer outlives a broker restart; a draining one reports it.
        reconnect = DEFAULT_RECONNECT if follow else None
        # With --max N, N messages in flight are enough: more would only be prefetched and
        # handed back (with their delivery attempt counted) when the consumer leaves.
        window = max_in_flight or limit
        stream = client.subscribe(subscription, max_in_flight=window, reconnect=reconnect)
        async with stream:
            try:
                while limit is None or received < limit:
                    try:
                        async with asyncio.timeout(None if follow else wait):
                            message: StreamMessage | GrpcStreamMessage = await anext(stream)
                    except (TimeoutError, StopAsyncIteration):
                        break
                    _show(message, json_lines)
                    received += 1
                    if not no_ack:
                        await message.ack()
            except asyncio.CancelledError:  # Ctrl-C: still say how far it got
                _summarise(subscription, received, no_ack)
                raise
    _summarise(subscription, received, no_ack)
    return received


def _summarise(subscription: str, received: int, no_ack: bool) -> None:
    acked = " (not acked)" if no_ack else ""
    note(f"received {received} message(s) from {subscription}{acked}")


def _show(message: ReceivedMessage, json_lines: bool) -> None:
    if json_lines:
        # data as the API writes it: text, or base64 (with "encoding") when not UTF-8
        encoded = encode_data(message.data)
        encoded.setdefault("encoding", "utf-8")
        body: dict[str, object] = {}
        for name, value in jsonable(message).items():
            body |= encoded if name == "data" else {name: value}
        print_json(body, compact=True)
        return
    attributes = " ".join(f"{k}={v}" for k, v in message.attributes.items())
    fields = [message.id, f"attempt={message.delivery_attempt}"]
    if message.key:
        fields.append(f"key={message.key}")
    if attributes:
        fields.append(attributes)
    print(" ".join(fields) + "  " + message.text, flush=True)
