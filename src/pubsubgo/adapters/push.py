"""Push subscriptions: a worker per subscription posts each message to its endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import aiohttp

from pubsubgo.adapters.wire.codec import encode
from pubsubgo.adapters.wire.schemas.messages import received_message
from pubsubgo.core.errors import BackendUnavailable, MemberNotFound, SubscriptionNotFound
from pubsubgo.core.messages import Delivery, DeliveryMode
from pubsubgo.core.subscriptions import Subscription, SubscriptionType
from pubsubgo.runtime.membership import MemberLease
from pubsubgo.services.broker import Broker
from pubsubgo.services.subscriber import MAX_PULL_WAIT_SECONDS

logger = logging.getLogger(__name__)


class PushWorker:
    """Posts a push subscription's messages; acks on a 2xx answer, nacks (backoff) otherwise.

    The worker is a member of the subscription's group, so several brokers share the work
    and a broker that dies gives its deliveries back when the group evicts it.

    Args:
        broker: the driving API.
        client: the HTTP client session.
        subscription: the push subscription.
        concurrency: deliveries posted at the same time.
        timeout_seconds: how long an endpoint may take (the ack deadline caps it too).
    """

    def __init__(
        self,
        broker: Broker,
        client: aiohttp.ClientSession,
        subscription: Subscription,
        concurrency: int,
        timeout_seconds: float,
    ) -> None:
        self._broker = broker
        self._client = client
        self._sub = subscription
        self._concurrency = concurrency
        timeout = min(timeout_seconds, subscription.ack_deadline_seconds)
        self._timeout = aiohttp.ClientTimeout(total=timeout)

    async def run(self) -> None:
        """Deliver until cancelled or the subscription is deleted."""
        with contextlib.suppress(SubscriptionNotFound):
            async with MemberLease(self._broker.groups, self._sub.name) as lease:
                while True:
                    member_id = lease.member_id
                    try:
                        deliveries = await self._broker.subscriber.pull(
                            self._sub.name, self._concurrency, MAX_PULL_WAIT_SECONDS, member_id
                        )
                    except MemberNotFound:
                        await lease.rejoin(member_id)
                        continue
                    await self._deliver(deliveries)

    async def _deliver(self, deliveries: list[Delivery]) -> None:
        answers = await asyncio.gather(*(self._post(d) for d in deliveries))
        settle = [
            (d.ack_id, ok)
            for d, ok in zip(deliveries, answers, strict=True)
            if d.message.delivery_mode is not DeliveryMode.AT_MOST_ONCE
        ]
        acked = [ack_id for ack_id, ok in settle if ok]
        failed = [ack_id for ack_id, ok in settle if not ok]
        if acked:
            await self._broker.acks.ack(self._sub.name, acked)
        if failed:
            # Redelivered after the subscription's retry backoff, or dead-lettered.
            await self._broker.acks.nack(self._sub.name, failed)

    async def _post(self, delivery: Delivery) -> bool:
        body = encode(received_message(delivery))
        headers = {
            "Content-Type": "application/json",
            "X-PubSub-Subscription": self._sub.name,
            "X-PubSub-Message-Id": delivery.message.id,
            "X-PubSub-Delivery-Attempt": str(delivery.delivery_attempt),
        }
        endpoint = self._sub.push_endpoint or ""
        try:
            async with self._client.post(
                endpoint, data=body, headers=headers, timeout=self._timeout
            ) as response:
                if 200 <= response.status < 300:
                    return True
                reason = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as error:
            reason = repr(error)
        logger.warning(
            "push of %s to %s failed (%s); will retry",
            delivery.message.id, endpoint, reason, extra={"subscription": self._sub.name},
        )  # fmt: skip
        return False


class PushDispatcher:
    """Keeps one PushWorker running per push subscription.

    Args:
        broker: the driving API.
        client: the HTTP client session the workers post with.
        concurrency: deliveries posted at the same time, per subscription.
        timeout_seconds: how long an endpoint may take.
    """

    def __init__(
        self,
        broker: Broker,
        client: aiohttp.ClientSession,
        concurrency: int,
        timeout_seconds: float,
    ) -> None:
        self._broker = broker
        self._client = client
        self._concurrency = concurrency
        self._timeout = timeout_seconds
        self._workers: dict[str, tuple[Subscription, asyncio.Task[None]]] = {}

    async def reconcile(self) -> None:
        """Start workers for new push subscriptions; stop those of deleted ones; restart
        workers that stopped (their failure was logged)."""
        wanted = {
            s.name: s
            for s in await self._broker.subscriptions.list()
            if s.type is SubscriptionType.PUSH
        }
        for name, (sub, task) in list(self._workers.items()):
            if wanted.get(name) != sub or task.done():
                await self._stop(name)
        for name, sub in wanted.items():
            if name not in self._workers:
                self._start(sub)

    async def aclose(self) -> None:
        """Stop every worker; what they held goes back to the group as they leave it."""
        for name in list(self._workers):
            await self._stop(name)

    def _start(self, sub: Subscription) -> None:
        worker = PushWorker(self._broker, self._client, sub, self._concurrency, self._timeout)
        task = asyncio.create_task(worker.run(), name=f"push {sub.name}")
        task.add_done_callback(_log_failure)
        self._workers[sub.name] = (sub, task)

    async def _stop(self, name: str) -> None:
        _, task = self._workers.pop(name)
        task.cancel()
        # wait() rather than await: a worker that failed has had its error logged already.
        await asyncio.wait({task})


def _log_failure(task: asyncio.Task[None]) -> None:
    if task.cancelled() or (error := task.exception()) is None:
        return
    # A storage outage is warned of once by the background runner, not once per worker.
    level = logging.DEBUG if isinstance(error, BackendUnavailable) else logging.ERROR
    logger.log(level, "%s stopped: %r; restarting it with the next duties", task.get_name(), error)
