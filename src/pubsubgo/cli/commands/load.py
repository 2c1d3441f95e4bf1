"""Load generation for ``pubsub-cli publish --count N``: paced publishes with progress."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from pubsubgo.cli.context import AnyClient
from pubsubgo.cli.output import console
from pubsubgo.client import OutgoingMessage

#: Requests in flight while generating load: order does not matter here, throughput does.
LOAD_CONCURRENT_BATCHES = 4


@dataclass(slots=True)
class LoadSummary:
    """What a load run did."""

    sent: int = 0
    errors: int = 0
    bytes: int = 0
    seconds: float = 0.0
    first_error: str | None = field(default=None)

    @property
    def rate(self) -> float:
        """Messages stored per second."""
        return self.sent / self.seconds if self.seconds > 0 else 0.0

    def record(self, done: asyncio.Future[str], size: int) -> None:
        """Count one answered publish of ``size`` payload bytes."""
        error = done.exception()
        if error is None:
            self.sent += 1
            self.bytes += size
        else:
            self.errors += 1
            self.first_error = self.first_error or str(error)

    def as_json(self) -> dict[str, Any]:
        """The summary for ``--output json``."""
        return {
            "sent": self.sent, "errors": self.errors, "bytes": self.bytes,
            "seconds": round(self.seconds, 3), "messages_per_second": round(self.rate, 1),
            "first_error": self.first_error,
        }  # fmt: skip


def payloads(data: bytes | None, size: int) -> Callable[[int], bytes]:
    """The payload of message ``i``: ``data`` when given, else ``size`` bytes numbered ``i``."""
    if data is not None:
        return lambda _: data
    filler = b"x" * size
    return lambda i: (b"%010d " % i + filler)[:size]


def progress_bar() -> Progress:
    """The bar drawn on stderr while messages go out."""
    return Progress(
        TextColumn("publishing"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[rate]:>9.0f} msg/s"), TimeElapsedColumn(),
        console=console(stderr=True),
    )  # fmt: skip


async def generate(
    client: AnyClient,
    topic: str,
    *,
    count: int,
    rate: float,
    payload: Callable[[int], bytes],
    options: dict[str, Any],
) -> LoadSummary:
    """Publish ``count`` messages at up to ``rate`` per second (0: no limit) through a
    batching publisher, drawing a progress bar."""
    summary = LoadSummary()
    loop = asyncio.get_running_loop()
    started = loop.time()
    with progress_bar() as progress:
        task = progress.add_task("publish", total=count, rate=0.0)

        def settled(done: asyncio.Future[str], size: int) -> None:
            summary.record(done, size)
            elapsed = loop.time() - started
            progress.update(task, advance=1, rate=summary.sent / elapsed if elapsed else 0.0)

        async with client.publisher(topic, max_concurrent_batches=LOAD_CONCURRENT_BATCHES) as pub:
            for i in range(count):
                if rate > 0:
                    await pace(started + i / rate - loop.time())
                data = payload(i)
                future = await pub.publish(OutgoingMessage(data, **options))
                future.add_done_callback(functools.partial(settled, size=len(data)))
    summary.seconds = loop.time() - started
    return summary


async def pace(ahead: float) -> None:
    """Wait ``ahead`` seconds when a paced run is ahead of its rate (not when behind)."""
    if ahead > 0:
        await asyncio.sleep(ahead)
