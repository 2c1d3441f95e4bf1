"""Many sockets: thousands of subscribed WebSockets on one broker process.

``sockets`` (``crowd_sockets``) or ``sockets-10k`` (twice that) sockets subscribe, spread
over ``crowd_subscriptions`` subscriptions of one topic (every fifth ordered), from the
generator processes at once. The run reports how long until the broker counted every one
as a member (or how many joined within ``join_limit_seconds``), the broker's RSS per socket
while they are connected and what of it remains after they close, the ``rebalanced``
frames they heard, and, while they are connected (with a trickle of messages to their
topic), the p99 of single-message REST publishes and pulls on another topic.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import orjson

from benchmarks import admin
from benchmarks.broker_crowd import CrowdReport, SocketCrowd, raise_flag
from benchmarks.broker_http import JSON
from benchmarks.context import Context
from benchmarks.results import Sample, percentile

JOIN = "join s"
JOINED = "joined sockets"
RSS = "RSS KiB/socket"
KEPT = "kept KiB/socket"
REBALANCED = "rebalanced frames"
PUBLISH_P99 = "publish p99 ms"
PULL_P99 = "pull p99 ms"
#: How often the run counts the members while the sockets join.
COUNT_EVERY_SECONDS = 1.0
#: Messages a second to the sockets' topic while publish and pull are timed.
TRICKLE_RATE = 20.0
#: How long the sockets' leaving may take to show in the member counts.
LEAVE_LIMIT_SECONDS = 60.0
#: After the last member left, time for the broker to give memory back before RSS is read.
SETTLE_SECONDS = 3.0


async def crowd_round(ctx: Context) -> list[tuple[str, Sample]]:
    """One run of each selected many-sockets workload."""
    found = []
    for workload, factor in (("sockets", 1), ("sockets-10k", 2)):
        if workload in ctx.settings.only:
            found.append((workload, await _crowd(ctx, ctx.settings.crowd_sockets * factor)))
    return found


async def _crowd(ctx: Context, sockets: int) -> Sample:
    s = ctx.settings
    topic, probe = ctx.name("crowd"), ctx.name("probe")
    await admin.create_topic(ctx.broker_url, topic, s.partitions)
    await admin.create_topic(ctx.broker_url, probe, s.partitions)
    await admin.create_subscription(ctx.broker_url, f"{probe}-sub", probe)
    subs = tuple(f"{topic}-s{i}" for i in range(s.crowd_subscriptions))
    for i, sub in enumerate(subs):
        await _subscription(ctx.broker_url, sub, topic, ordered=i % 5 == 4)
    assert ctx.scratch is not None
    flag = ctx.scratch / f"{topic}.close"
    try:
        return await _measure(ctx, sockets, topic, probe, subs, flag)
    finally:
        raise_flag(flag)
        await admin.delete_topic(ctx.broker_url, topic)
        await admin.delete_topic(ctx.broker_url, probe)


async def _measure(
    ctx: Context, sockets: int, topic: str, probe: str, subs: tuple[str, ...], flag: Path
) -> Sample:
    s = ctx.settings
    rss_before = rss_kib(ctx.broker_pid)
    start = time.time() + 0.5
    share = sockets // s.processes
    crowd = asyncio.ensure_future(ctx.run(_jobs(ctx, subs, share, start, flag)))
    async with aiohttp.ClientSession() as http:
        give_up = start + s.join_limit_seconds
        joined = await _members_until(http, ctx.broker_url, subs, share * s.processes, give_up)
        joined_at = time.time()
        rss_connected = rss_kib(ctx.broker_pid)
        publishes, pulls, sample_cpu = await _probed(ctx, http, topic, probe)
        raise_flag(flag)
        reports: list[CrowdReport] = await crowd
        await _members_until(http, ctx.broker_url, subs, 0, time.time() + LEAVE_LIMIT_SECONDS)
    await asyncio.sleep(SETTLE_SECONDS)
    rss_after = rss_kib(ctx.broker_pid)
    _note(reports)
    metrics = {
        JOIN: joined_at - start if joined >= share * s.processes else float("nan"),
        JOINED: float(joined),
        RSS: (rss_connected - rss_before) / sockets,
        KEPT: (rss_after - rss_before) / sockets,
        REBALANCED: float(sum(r.rebalanced for r in reports)),
        PUBLISH_P99: percentile(publishes, 0.99),
        PULL_P99: percentile(pulls, 0.99),
    }
    return Sample(metrics, sample_cpu)


async def _probed(
    ctx: Context, http: aiohttp.ClientSession, topic: str, probe: str
) -> tuple[list[float], list[float], dict[str, float]]:
    """The probe's publish and pull durations, and the CPU the processes used meanwhile."""
    first = time.time()
    with ctx.profiled("sockets"):
        publishes, pulls = await _probe(
            http, ctx.broker_url, topic, probe, ctx.settings.probe_seconds
        )
    return publishes, pulls, ctx.sample({}, first, time.time(), 0.0).cpu


def _jobs(
    ctx: Context, subs: tuple[str, ...], share: int, start: float, flag: Path
) -> list[SocketCrowd]:
    """Each generator process's sockets: ``share`` of them, from ``start``."""
    s = ctx.settings
    deadline = s.join_limit_seconds + s.probe_seconds + LEAVE_LIMIT_SECONDS
    return [
        SocketCrowd(ctx.broker_url, subs, share, n * share, start, str(flag), deadline)
        for n in range(s.processes)
    ]


async def _subscription(base: str, name: str, topic: str, *, ordered: bool) -> None:
    body = {"name": name, "topic": topic, "ordered": ordered, "max_in_flight": 100}
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{base}/v1/subscriptions", json=body) as response,
    ):
        if response.status != 201:
            raise RuntimeError(f"creating {name}: {response.status} {await response.text()}")


async def _members_until(
    http: aiohttp.ClientSession,
    base: str,
    subs: tuple[str, ...],
    wanted: int,
    give_up: float,
) -> int:
    """Count the subscriptions' members every COUNT_EVERY_SECONDS until there are
    ``wanted`` (at least, or none when 0 is wanted) or ``give_up``; the last count."""
    while True:
        counted = sum([await _members(http, base, sub) for sub in subs])
        done = counted == 0 if wanted == 0 else counted >= wanted
        if done or time.time() > give_up:
            return counted
        await asyncio.sleep(COUNT_EVERY_SECONDS)


async def _members(http: aiohttp.ClientSession, base: str, sub: str) -> int:
    async with http.get(f"{base}/v1/subscriptions/{sub}") as response:
        if response.status != 200:
            return 0
        described = orjson.loads(await response.read())
    return len(described.get("members", []))


async def _probe(
    http: aiohttp.ClientSession, base: str, crowd_topic: str, probe: str, seconds: float
) -> tuple[list[float], list[float]]:
    """Publish one message and pull it, over and over for ``seconds``, while a trickle of
    messages goes to the sockets; the durations (ms) of the publishes and of the pulls."""
    trickle = asyncio.create_task(_trickle(http, base, crowd_topic, seconds))
    publishes: list[float] = []
    pulls: list[float] = []
    sub = f"{base}/v1/subscriptions/{probe}-sub"
    pull_body = orjson.dumps({"max_messages": 1, "wait_seconds": 1})
    end = time.time() + seconds
    while time.time() < end:
        started = time.perf_counter()
        await _post(http, f"{base}/v1/topics/{probe}/messages", b'{"messages":[{"data":"p"}]}')
        middle = time.perf_counter()
        pulled = await _post(http, f"{sub}/pull", pull_body)
        done = time.perf_counter()
        publishes.append(1000 * (middle - started))
        pulls.append(1000 * (done - middle))
        ack_ids = [m["ack_id"] for m in orjson.loads(pulled).get("messages", [])]
        await _post(http, f"{sub}/ack", orjson.dumps({"ack_ids": ack_ids}))
    await trickle
    return publishes, pulls


async def _trickle(http: aiohttp.ClientSession, base: str, topic: str, seconds: float) -> None:
    end = time.time() + seconds
    while time.time() < end:
        await _post(http, f"{base}/v1/topics/{topic}/messages", b'{"messages":[{"data":"t"}]}')
        await asyncio.sleep(1 / TRICKLE_RATE)


async def _post(http: aiohttp.ClientSession, url: str, body: bytes) -> bytes:
    async with http.post(url, data=body, headers=JSON) as response:
        return await response.read()


def rss_kib(pid: int) -> float:
    """The resident memory of process ``pid`` in KiB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    return float("nan")


def _note(reports: list[CrowdReport]) -> None:
    errors = sum(r.errors for r in reports)
    if errors:
        notes = "; ".join(n for r in reports for n in r.notes)
        print(f"  (sockets run: {errors} errors: {notes})")
