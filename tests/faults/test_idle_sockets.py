"""Thousands of idle WebSocket consumers on one broker process: every one is subscribed,
and what they cost in memory is reported."""

from __future__ import annotations

import asyncio
import resource
import time

import aiohttp
import pytest

from tests.faults.api import topic_and_subscription
from tests.faults.broker import report
from tests.faults.conftest import StartBroker

pytestmark = pytest.mark.e2e

SOCKETS = 5000
#: Subscriptions the sockets spread over (each a consumer group of SOCKETS / SUBSCRIPTIONS).
SUBSCRIPTIONS = 50
#: Sockets opened at the same time.
OPENING_AT_ONCE = 200
#: File descriptors the test process and the broker need: a socket each, and some spare.
FILES_NEEDED = SOCKETS + 1024
DEADLINE_SECONDS = 60.0
#: What one idle subscribed socket may cost the broker (about 26 KiB measured): a bound
#: that catches a leak or a buffer per socket, not a target.
MAX_KIB_PER_SOCKET = 64


def raise_file_limit() -> None:
    """Allow this process (and the broker it starts) a file descriptor per socket."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < FILES_NEEDED:
        if hard != resource.RLIM_INFINITY and hard < FILES_NEEDED:
            pytest.fail(f"RLIMIT_NOFILE's hard limit {hard} is under {FILES_NEEDED}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (FILES_NEEDED, hard))


async def subscribed_socket(
    http: aiohttp.ClientSession, url: str, sub: str, gate: asyncio.Semaphore
) -> aiohttp.ClientWebSocketResponse:
    async with gate:
        ws = await http.ws_connect(f"{url}/v1/ws", heartbeat=None)
        await ws.send_json({"type": "subscribe", "subscription": sub})
        answer = await ws.receive_json()
    assert answer["type"] == "subscribed", answer
    return ws


@pytest.mark.timeout(DEADLINE_SECONDS + 30)
async def test_five_thousand_idle_websockets_are_all_subscribed(start_broker: StartBroker) -> None:
    # Given a broker that may hold the sockets (heartbeats slowed: they are idle)
    raise_file_limit()
    broker = start_broker(
        PUBSUB_GROUPS_HEARTBEAT_INTERVAL_SECONDS="10", PUBSUB_GROUPS_SESSION_TIMEOUT_SECONDS="60"
    )
    connector = aiohttp.TCPConnector(limit=0)
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        asyncio.timeout(DEADLINE_SECONDS),
    ):
        subs = [(await topic_and_subscription(http, broker.url))[1] for _ in range(SUBSCRIPTIONS)]
        idle = broker.memory().rss_mib
        started = time.monotonic()
        # When 5,000 sockets connect and subscribe
        gate = asyncio.Semaphore(OPENING_AT_ONCE)
        sockets = await asyncio.gather(
            *(
                subscribed_socket(http, broker.url, subs[i % SUBSCRIPTIONS], gate)
                for i in range(SOCKETS)
            )
        )
        opened_in = time.monotonic() - started
        loaded = broker.memory()
        # Then every one is subscribed (each was answered so) and still open
        assert not [ws for ws in sockets if ws.closed]
        await asyncio.gather(*(ws.close() for ws in sockets))
    assert_cheap(idle, loaded.rss_mib, opened_in)


def assert_cheap(idle_mib: float, loaded_mib: float, opened_in: float) -> None:
    """Report what the sockets cost, and check it against the bound."""
    per_socket = (loaded_mib - idle_mib) * 1024 / SOCKETS
    report(
        "idle sockets", sockets=SOCKETS, subscribed=SOCKETS, subscriptions=SUBSCRIPTIONS,
        opened_in_s=round(opened_in, 1), rss_idle_mib=round(idle_mib, 1),
        rss_with_sockets_mib=round(loaded_mib, 1), kib_per_socket=round(per_socket, 1),
    )  # fmt: skip
    assert per_socket <= MAX_KIB_PER_SOCKET
