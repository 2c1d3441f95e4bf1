"""DeadLetterService: moves messages that ran out of attempts to the dead-letter topic."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pubsubgo.core.errors import PubSubError
from pubsubgo.core.messages import Message, PublishRequest
from pubsubgo.core.subscriptions import InFlight, Release, Subscription
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.in_flight import InFlightLedger
from pubsubgo.ports.message_log import MessageLog
from pubsubgo.ports.metrics import BrokerMetrics
from pubsubgo.services.compression import unpacked
from pubsubgo.services.publisher import PublisherService

logger = logging.getLogger(__name__)

#: The reason a message was dead-lettered, in ``x-dead-letter-reason``.
REASON_MAX_ATTEMPTS = "max_delivery_attempts_exceeded"
#: When the dead-letter topic cannot take a message, try again after this long.
DEAD_LETTER_RETRY_SECONDS = 30.0


class DeadLetterService:
    """Republishes exhausted deliveries to the dead-letter topic, then settles them."""

    def __init__(
        self,
        publisher: PublisherService,
        messages: MessageLog,
        in_flight: InFlightLedger,
        clock: Clock,
        metrics: BrokerMetrics,
    ) -> None:
        self._publisher = publisher
        self._messages = messages
        self._in_flight = in_flight
        self._clock = clock
        self._metrics = metrics

    async def dead_letter(self, subscription: Subscription, deliveries: Sequence[InFlight]) -> int:
        """Move ``deliveries`` to the subscription's dead-letter topic; returns how many moved.

        The copy is stored before the source delivery is settled, so a crash in between
        duplicates a dead letter rather than losing it. If the dead-letter topic refuses the
        copy (deleted, full), the deliveries are released for a later try instead.
        """
        if not deliveries or subscription.dead_letter_topic is None:
            return 0
        stored = await self._messages.fetch(subscription.topic, [d.message_id for d in deliveries])
        requests = [
            _dead_letter_copy(stored[d.message_id], subscription, d)
            for d in deliveries
            if d.message_id in stored
        ]
        try:
            if requests:
                await self._publisher.publish(
                    subscription.dead_letter_topic, requests, internal=True
                )
        except PubSubError as error:
            await self._retry_later(subscription, deliveries, error)
            return 0
        ack_ids = [d.ack_id for d in deliveries]
        await self._in_flight.settle(subscription.name, ack_ids, self._clock.now(), force=True)
        self._metrics.dead_lettered(subscription.topic, subscription.name, len(requests))
        return len(requests)

    async def _retry_later(
        self, subscription: Subscription, deliveries: Sequence[InFlight], error: PubSubError
    ) -> None:
        logger.warning(
            "dead-letter topic %s refused %d message(s) of %s: %s",
            subscription.dead_letter_topic,
            len(deliveries),
            subscription.name,
            error,
        )
        due = self._clock.now() + DEAD_LETTER_RETRY_SECONDS
        releases = [Release(d.ack_id, due) for d in deliveries]
        await self._in_flight.release(subscription.name, releases)


def _dead_letter_copy(
    message: Message, subscription: Subscription, delivery: InFlight
) -> PublishRequest:
    original = unpacked(message)
    attributes = {
        **original.attributes,
        "x-dead-letter-reason": REASON_MAX_ATTEMPTS,
        "x-original-topic": subscription.topic,
        "x-original-subscription": subscription.name,
        "x-original-id": message.id,
        "x-delivery-attempts": str(delivery.attempt),
    }
    return PublishRequest(
        data=original.data,
        key=original.key,
        attributes=attributes,
        priority=original.priority,
    )
