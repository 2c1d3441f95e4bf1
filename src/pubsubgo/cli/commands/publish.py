"""``pubsub-cli publish``: one message, one per input line, or generated load."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer

from pubsubgo.cli.commands import load
from pubsubgo.cli.context import AnyClient, CliContext, cli_context
from pubsubgo.cli.output import note, print_json, print_table
from pubsubgo.cli.runner import ExitCode, call, exit_code, fail, run
from pubsubgo.client import OutgoingMessage, PubSubClientError

#: Bytes read from stdin or a file at a time (lines are split from these chunks).
READ_CHUNK_BYTES = 64 * 1024

TOPIC_HELP = "The topic to publish to."
DATA_HELP = "The message. Without it, each line of --file or stdin is one message."
FILE_HELP = "Publish each line of this file as a message (empty lines are skipped)."
KEY_HELP = "Ordering key: messages with the same key go to one partition, in order."
ATTR_HELP = "An attribute, key=value (repeatable)."
PRIORITY_HELP = "Delivery priority."
TTL_HELP = "Seconds after which the message is never delivered."
DELAY_HELP = "Seconds before the message may be delivered."
DEDUP_HELP = "Deduplication id: a second publish with it inside the window stores nothing."
COUNT_HELP = "Load mode: publish this many generated messages (or DATA this many times)."
RATE_HELP = "Load mode: messages per second (0: as fast as possible)."
SIZE_HELP = "Load mode: bytes per generated message."


class PriorityChoice(StrEnum):
    """Delivery priorities, lowest first."""

    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    CRITICAL = "critical"


def publish(
    ctx: typer.Context,
    topic: Annotated[str, typer.Argument(help=TOPIC_HELP)],
    data: Annotated[str | None, typer.Argument(help=DATA_HELP)] = None,
    file: Annotated[
        Path | None, typer.Option("--file", "-f", help=FILE_HELP, dir_okay=False)
    ] = None,
    key: Annotated[str | None, typer.Option(help=KEY_HELP)] = None,
    attr: Annotated[list[str] | None, typer.Option("--attr", "-a", help=ATTR_HELP)] = None,
    priority: Annotated[PriorityChoice | None, typer.Option(help=PRIORITY_HELP)] = None,
    ttl: Annotated[float | None, typer.Option(help=TTL_HELP, min=0)] = None,
    delay: Annotated[float | None, typer.Option(help=DELAY_HELP, min=0)] = None,
    dedup_id: Annotated[str | None, typer.Option(help=DEDUP_HELP)] = None,
    count: Annotated[int | None, typer.Option(help=COUNT_HELP, min=1)] = None,
    rate: Annotated[float, typer.Option(help=RATE_HELP, min=0)] = 0.0,
    size: Annotated[int, typer.Option(help=SIZE_HELP, min=1)] = 100,
) -> None:
    """Publish DATA, each line of --file or stdin, or --count generated messages."""
    if data is not None and file is not None:
        raise typer.BadParameter("give DATA or --file, not both")
    if dedup_id is not None and (data is None or count is not None):
        raise typer.BadParameter("--dedup-id applies to a single DATA message only")
    options: dict[str, Any] = {
        "key": key, "attributes": _attributes(attr or []), "ttl_seconds": ttl,
        "delay_seconds": delay, "dedup_id": dedup_id,
        "priority": None if priority is None else priority.value,
    }  # fmt: skip
    cli = cli_context(ctx)
    if count is not None:
        _load(cli, topic, data, count=count, rate=rate, size=size, options=options)
    elif data is not None:
        message = OutgoingMessage(data, **options)
        ids = call(cli, lambda client: client.publish_batch(topic, [message]))
        _print_ids(cli, topic, ids)
    else:
        _publish_lines(cli, topic, file, options)


def _attributes(pairs: list[str]) -> dict[str, str]:
    attributes: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r} is not key=value", param_hint="--attr")
        attributes[name] = value
    return attributes


def _print_ids(cli: CliContext, topic: str, ids: list[str]) -> None:
    if cli.json:
        print_json({"topic": topic, "ids": ids})
        return
    for message_id in ids:
        print(message_id)
    note(f"published {len(ids)} message(s) to {topic}")


def _publish_lines(cli: CliContext, topic: str, file: Path | None, options: dict[str, Any]) -> None:
    if file is None and sys.stdin.isatty():
        note("reading messages from stdin, one per line; end with Ctrl-D")
    try:
        stream: BinaryIO = sys.stdin.buffer if file is None else file.open("rb")
    except OSError as error:
        fail(f"cannot read {file}: {error.strerror}", ExitCode.USAGE)
    with stream:
        ids, errors = call(cli, lambda client: _send_lines(client, topic, stream, options))
    if not ids and not errors:
        fail("nothing to publish: give DATA, --file, or lines on stdin", ExitCode.USAGE)
    if ids:
        _print_ids(cli, topic, ids)
    if errors and not ids:
        fail(str(errors[0]), exit_code(errors[0]))
    if errors:
        fail(f"{len(errors)} message(s) were not published; first: {errors[0]}")


async def _send_lines(
    client: AnyClient, topic: str, stream: BinaryIO, options: dict[str, Any]
) -> tuple[list[str], list[PubSubClientError]]:
    """Publish each non-empty line through a batching publisher; ids in line order."""
    futures: list[asyncio.Future[str]] = []
    async with client.publisher(topic) as publisher:
        async for line in _lines(stream):
            if line:
                futures.append(await publisher.publish(OutgoingMessage(line, **options)))
    outcomes = await asyncio.gather(*futures, return_exceptions=True)
    ids = [o for o in outcomes if isinstance(o, str)]
    errors = [o for o in outcomes if isinstance(o, PubSubClientError)]
    unexpected = [o for o in outcomes if isinstance(o, BaseException) and o not in errors]
    if unexpected:
        raise unexpected[0]
    return ids, errors


async def _lines(stream: BinaryIO) -> AsyncIterator[bytes]:
    """The lines of ``stream`` without their ends, read in a thread so that batches keep
    leaving while an interactive stdin waits for the next line."""
    pending = b""
    while chunk := await asyncio.to_thread(_read_chunk, stream):
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield line.removesuffix(b"\r")
    if pending:
        yield pending.removesuffix(b"\r")


def _read_chunk(stream: BinaryIO) -> bytes:
    read1 = getattr(stream, "read1", None)
    return read1(READ_CHUNK_BYTES) if read1 is not None else stream.read(READ_CHUNK_BYTES)


def _load(
    cli: CliContext, topic: str, data: str | None, *,
    count: int, rate: float, size: int, options: dict[str, Any],
) -> None:  # fmt: skip
    async def main() -> load.LoadSummary:
        async with cli.client() as client:
            await client.topics.describe(topic)  # a missing topic fails once, not N times
            payload = load.payloads(None if data is None else data.encode(), size)
            return await load.generate(
                client, topic, count=count, rate=rate, payload=payload, options=options
            )

    summary = run(main())
    if cli.json:
        print_json(summary.as_json())
    else:
        rows: list[list[Any]] = [
            ["sent", summary.sent], ["errors", summary.errors],
            ["seconds", f"{summary.seconds:.2f}"], ["rate", f"{summary.rate:,.0f} msg/s"],
            ["throughput", f"{summary.bytes / max(summary.seconds, 1e-9) / 2**20:.2f} MiB/s"],
        ]  # fmt: skip
        # A summary, like the progress bar: stderr (docs/cli.md, "Output rules").
        print_table(f"published to {topic}", ["", "VALUE"], rows, stderr=True)
    if summary.errors:
        fail(f"{summary.errors} message(s) failed; first: {summary.first_error}")
