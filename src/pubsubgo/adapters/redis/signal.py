"""RedisSignal: wakes long polls in this process at once, and in other processes via pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time

from redis.asyncio.cluster import RedisCluster
from redis.exceptions import RedisClusterException, RedisError

from pubsubgo.adapters.redis import keys
from pubsubgo.adapters.redis.scripts import RedisClient

logger = logging.getLogger(__name__)

#: How long the listener waits for a message before looking again (and noticing a close).
LISTEN_POLL_SECONDS = 1.0
#: After losing its connection, the listener waits this long before subscribing again, so
#: that a Redis outage costs one attempt per interval rather than a busy loop.
LISTEN_RETRY_SECONDS = 0.5
#: How long "no other process listens" is trusted. A broker process that starts listening
#: is told nothing for at most this long: its long polls look again every 0.25 s anyway,
#: so that costs latency only.
PEERS_TTL_SECONDS = 1.0
_REDIS_ERRORS = (RedisError, RedisClusterException, OSError)


class RedisSignal:
    """MessageSignal across broker processes.

    ``notify`` wakes this process's waiters directly and publishes the topic on the
    ``psg:wake`` channel; notifications of one event-loop turn share one PUBLISH, and while
    the last PUBLISH reached no other process (its reply counts the listeners) only one
    goes out per PEERS_TTL_SECONDS on a single node. A listener task, started by the first
    ``wait``, wakes local waiters when another process publishes. Redis being away only
    delays wake-ups: long polls look again on their own anyway. Call ``aclose`` before
    closing the client.

    Args:
        client: the backend's client (single node or cluster: PUBLISH reaches every node).
    """

    def __init__(self, client: RedisClient) -> None:
        self._client = client
        self._events: dict[str, asyncio.Event] = {}
        self._pending: set[str] = set()
        #: Tells our own messages apart when they come back from the channel.
        self._origin = secrets.token_hex(8)
        self._publisher: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        #: Whether this process's listener is subscribed (a PUBLISH's count includes it).
        self._subscribed = False
        #: Whether other processes listen, and until when that answer is trusted.
        self._peers = True
        self._peers_until = 0.0

    def notify(self, topic: str) -> None:
        self._wake(topic)
        self._pending.add(topic)
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.get_running_loop().create_task(self._publish())

    async def wait(self, topic: str, within: float) -> bool:
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(self._listen())
        event = self._events.setdefault(topic, asyncio.Event())
        try:
            async with asyncio.timeout(within):
                await event.wait()
        except TimeoutError:
            return False
        return True

    async def aclose(self) -> None:
        """Stop the listener and the publisher."""
        for task in (self._publisher, self._listener):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._publisher = self._listener = None

    def _wake(self, topic: str) -> None:
        event = self._events.pop(topic, None)
        if event is not None:
            event.set()

    async def _publish(self) -> None:
        await asyncio.sleep(0)  # let the rest of this loop turn add its topics
        while self._pending:
            topics, self._pending = self._pending, set()
            if not self._worth_publishing():
                continue
            try:
                message = "\n".join([self._origin, *topics])
                heard_by = await self._client.publish(keys.WAKE_CHANNEL, message)
            except _REDIS_ERRORS as error:
                logger.debug("could not publish a wake-up: %s", error)
                return
            self._count_peers(int(heard_by))

    def _worth_publishing(self) -> bool:
        """Whether another process may listen. A PUBLISH nobody else hears costs a round
        trip and, through this process's own listener, a message to parse: for one-message
        publishes about a third of the broker's work. So when the last PUBLISH reached no
        other listener, the next PEERS_TTL_SECONDS send none; the one after asks again."""
        return (
            self._peers
            or time.monotonic() >= self._peers_until
            or isinstance(self._client, RedisCluster)
        )

    def _count_peers(self, heard_by: int) -> None:
        """Remember whether a PUBLISH heard by ``heard_by`` listeners reached another
        process (this process's own listener hears it too). On a cluster the count covers
        one node only: there every wake-up is published."""
        self._peers = heard_by > (1 if self._subscribed else 0)
        self._peers_until = time.monotonic() + PEERS_TTL_SECONDS

    async def _listen(self) -> None:
        while True:
            try:
                await self._listen_once()
            except _REDIS_ERRORS as error:
                logger.debug("wake-up listener lost redis: %s", error)
            except Exception:
                # Whatever went wrong, waiters still look again on their own: keep going.
                logger.exception("wake-up listener failed")
            await asyncio.sleep(LISTEN_RETRY_SECONDS)

    async def _listen_once(self) -> None:
        if isinstance(self._client, RedisCluster):
            await self._client.initialize()  # its pub/sub needs the slot map (no-op once read)
        pubsub = self._client.pubsub()
        try:
            await pubsub.subscribe(keys.WAKE_CHANNEL)
            self._subscribed = True
            while True:
                message = await pubsub.get_message(
                    ignore_subscribe_messages=True, timeout=LISTEN_POLL_SECONDS
                )
                if message is not None and message.get("type") == "message":
                    self._on_message(message["data"])
        finally:
            self._subscribed = False
            with contextlib.suppress(*_REDIS_ERRORS):
                await pubsub.aclose()

    def _on_message(self, data: bytes) -> None:
        origin, *topics = data.decode().split("\n")
        if origin != self._origin:
            for topic in topics:
                self._wake(topic)
