"""Many subscribed sockets in one generator process: they connect and subscribe (offering
permessage-deflate, as browsers do), count the ``rebalanced`` frames they hear, ack what
is pushed to them, and close when a flag file appears."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import orjson

from benchmarks.broker_ws import subscribe

#: Sockets connecting and subscribing at once, per generator process.
CONNECTING_AT_ONCE = 100
#: How often the process looks for the flag file that ends the run.
FLAG_POLL_SECONDS = 0.2
#: What a client offers: the largest window, as browsers do.
DEFLATE_WINDOW_BITS = 15
#: The pushed messages a socket may hold unacked.
SOCKET_MAX_IN_FLIGHT = 10
#: A join storm can keep a subscribe waiting long; the run's join limit bounds it anyway.
SUBSCRIBE_TIMEOUT = 120.0


@dataclass(slots=True)
class CrowdReport:
    """What one process's sockets saw."""

    joined: int = 0
    #: Wall-clock instant the last of them was subscribed.
    joined_at: float = 0.0
    rebalanced: int = 0
    received: int = 0
    errors: int = 0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SocketCrowd:
    """``sockets`` sockets, socket ``i`` subscribed to ``subscriptions[(offset + i) % n]``,
    connecting from ``start_at``; all close once ``close_flag`` exists (or at the
    deadline)."""

    url: str
    subscriptions: tuple[str, ...]
    sockets: int
    offset: int
    start_at: float
    close_flag: str
    deadline_seconds: float

    async def run(self) -> CrowdReport:
        report = CrowdReport()
        give_up = self.start_at + self.deadline_seconds
        connector = aiohttp.TCPConnector(limit=0)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=30)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
            await asyncio.sleep(max(0.0, self.start_at - time.time()))
            gate = asyncio.Semaphore(CONNECTING_AT_ONCE)
            members = [
                asyncio.create_task(self._member(http, i, gate, report))
                for i in range(self.sockets)
            ]
            await _until_flag(self.close_flag, give_up)
            for member in members:
                member.cancel()
            await asyncio.gather(*members, return_exceptions=True)
        return report

    async def _member(
        self, http: aiohttp.ClientSession, index: int, gate: asyncio.Semaphore, report: CrowdReport
    ) -> None:
        subscription = self.subscriptions[(self.offset + index) % len(self.subscriptions)]
        try:
            async with gate:
                ws = await http.ws_connect(
                    f"{self.url}/v1/ws", compress=DEFLATE_WINDOW_BITS, max_msg_size=0
                )
                await subscribe(ws, subscription, SOCKET_MAX_IN_FLIGHT, wait=SUBSCRIBE_TIMEOUT)
        except (aiohttp.ClientError, RuntimeError, TimeoutError, OSError) as error:
            report.errors += 1
            if len(report.notes) < 3:
                report.notes.append(f"{type(error).__name__}: {error}")
            return
        report.joined += 1
        report.joined_at = time.time()
        try:
            await _listen(ws, report)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.shield(ws.close())


def flag_raised(path: str) -> bool:
    """Whether the flag file ``path`` exists (the orchestrator's way to end the run)."""
    return Path(path).exists()


async def _until_flag(path: str, give_up: float) -> None:
    """Return once the flag file ``path`` exists (another process makes it), or at the
    wall-clock instant ``give_up``."""
    while True:
        if flag_raised(path) or time.time() > give_up:
            return
        await asyncio.sleep(FLAG_POLL_SECONDS)


def raise_flag(path: Path) -> None:
    """Create the flag file ``path``."""
    path.touch()


async def _listen(ws: aiohttp.ClientWebSocketResponse, report: CrowdReport) -> None:
    async for message in ws:
        if message.type is not aiohttp.WSMsgType.TEXT:
            return
        frame = orjson.loads(message.data)
        kind = frame.get("type")
        if kind == "rebalanced":
            report.rebalanced += 1
        elif kind == "message":
            report.received += 1
            await ws.send_str(orjson.dumps({"type": "ack", "ack_ids": [frame["ack_id"]]}).decode())
        elif kind == "error":
            report.errors += 1
