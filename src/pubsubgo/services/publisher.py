"""PublisherService: validates messages, picks their partition and stores them."""

from __future__ import annotations

import itertools
import operator
import zlib
from collections.abc import Iterator, Sequence

from pubsubgo.core.access import Principal
from pubsubgo.core.errors import MessageTooLarge, TopicNotFound
from pubsubgo.core.limits import Limits
from pubsubgo.core.messages import (
    Compression,
    DeliveryMode,
    MessageDraft,
    MessageId,
    PublishRequest,
)
from pubsubgo.core.topics import AutoCreate, Topic
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.message_log import MessageLog
from pubsubgo.ports.metrics import BrokerMetrics
from pubsubgo.ports.topics import TopicRegistry
from pubsubgo.ports.tracing import MessageTracer
from pubsubgo.services.compression import pack
from pubsubgo.services.first_publish import TopicCreator
from pubsubgo.services.message_rules import check_batch, check_message
from pubsubgo.services.tracing import NullTracer
from pubsubgo.services.waiting import WaitingRoom


def partition_for_key(key: str, partitions: int) -> int:
    """The partition of ``key``: CRC-32 of its UTF-8 bytes, stable across processes and
    restarts (Python's ``hash()`` is salted per process)."""
    return zlib.crc32(key.encode()) % partitions


class PublisherService:
    """Publishes batches of messages to topics."""

    def __init__(
        self,
        topics: TopicRegistry,
        messages: MessageLog,
        waiting: WaitingRoom,
        clock: Clock,
        metrics: BrokerMetrics,
        limits: Limits | None = None,
        tracer: MessageTracer | None = None,
        auto_create: AutoCreate | None = None,
    ) -> None:
        self._topics = topics
        self._creator = TopicCreator(topics, clock, auto_create)
        self._messages = messages
        self._waiting = waiting
        self._clock = clock
        self._metrics = metrics
        self._limits = limits or Limits()
        self._tracer = tracer or NullTracer()
        #: Keyless messages spread over partitions in turn, per topic.
        self._turns: dict[str, Iterator[int]] = {}

    async def publish(
        self,
        topic_name: str,
        requests: Sequence[PublishRequest],
        *,
        internal: bool = False,
        creator: Principal | None = None,
    ) -> list[MessageId]:
        """Store a batch and return one id per message, in order.

        Args:
            topic_name: the topic to publish to.
            requests: the messages.
            internal: the broker itself republishes (dead letters): attribute limits are not
                applied, since the broker adds its own ``x-`` attributes.
            creator: who publishes, when a missing topic may be created for them (with
                ``auto_create`` set, and ``admin`` on the name); None never creates one.

        Raises:
            TopicNotFound: no such topic (and none created).
            PermissionDenied: no such topic, and ``creator`` may not create it.
            InvalidMessage: a message breaks a rule (index in the message).
            MessageTooLarge: a message or the batch is over its size limit.
            TopicFull: the topic is at ``max_messages`` with overflow ``reject``.
        """
        started = self._clock.monotonic()
        size = check_batch(requests, self._limits)
        topic = await self._topic(topic_name, requests, creator)
        # A batch no bigger than the message limit cannot hold a message over it.
        sizes_checked = size <= self._limits.max_message_bytes
        now = self._clock.now()
        delayed: list[float] = []
        with self._tracer.publishing(topic.name, requests) as traced:
            drafts = self._drafts(topic, traced, now, internal, sizes_checked, delayed)
            ids = await self._messages.append(topic, drafts)
        self._waiting.notify(topic.name)
        if delayed:
            self._waiting.notify_at(topic.name, delayed)
        self._metrics.published(topic.name, len(ids), self._clock.monotonic() - started)
        return ids

    async def check(
        self,
        topic_name: str,
        requests: Sequence[PublishRequest],
        creator: Principal | None = None,
    ) -> None:
        """Refuse ``requests`` as :meth:`publish` would, without storing them: what a
        publisher that does not wait for the store (``?async=true``) is told at once. A
        missing topic is created as :meth:`publish` would create it.

        What only storing can tell (a full topic, storage down) is not checked.

        Raises:
            TopicNotFound: no such topic (and none created).
            PermissionDenied: no such topic, and ``creator`` may not create it.
            InvalidMessage: a message breaks a rule.
            MessageTooLarge: a message or the batch is over its size limit.
        """
        check_batch(requests, self._limits)
        await self._topic(topic_name, requests, creator)
        self._check_messages(requests)

    async def _topic(
        self, name: str, requests: Sequence[PublishRequest], creator: Principal | None
    ) -> Topic:
        """The topic ``requests`` go to; created for ``creator`` when it is missing (and the
        broker creates topics on first publish), once the messages are known to be valid."""
        try:
            return await self._topics.get(name)
        except TopicNotFound:
            if creator is None:
                raise
        self._check_messages(requests)
        return await self._creator.create(name, creator)

    def _check_messages(self, requests: Sequence[PublishRequest]) -> None:
        now = self._clock.now()
        for index, request in enumerate(requests):
            check_message(request, self._limits, now, index, internal=False)

    def _drafts(
        self,
        topic: Topic,
        requests: Sequence[PublishRequest],
        now: float,
        internal: bool,
        sizes_checked: bool,
        delayed: list[float],
    ) -> list[MessageDraft]:
        """Validate and prepare a batch; one loop, as this runs once per message.

        ``sizes_checked``: no message can be over the size limit, so the plain path need not
        look (messages that set more than data and priority are always checked in full).
        ``delayed`` receives the delivery time of each delayed message."""
        max_bytes = self._limits.max_message_bytes
        compressing = topic.compression is not _UNCOMPRESSED
        turns = self._turns_of(topic)
        drafts: list[MessageDraft] = []
        add, new = drafts.append, tuple.__new__
        for request in requests:
            # Anything beyond data and priority needs checking (inlined: a call per message
            # shows in the engine's throughput).
            if (
                request.attributes
                or request.key is not None
                or request.dedup_id is not None
                or request.ttl_seconds is not None
                or request.delay_seconds is not None
                or request.deliver_at is not None
                or request.delivery_mode is not _DEFAULT_MODE
            ):
                # One draft per request so far: their count is this request's index.
                draft = self._draft(topic, request, now, len(drafts), internal)
                if draft.deliver_at is not None:
                    delayed.append(draft.deliver_at)
                add(draft)
                continue
            # A plain message: data and priority only, the common case kept short.
            data = request.data
            if not sizes_checked and len(data) > max_bytes:
                raise MessageTooLarge(len(data), max_bytes)
            compression = _UNCOMPRESSED
            if compressing:
                data, compression = pack(data, topic.compression, topic.compression_min_bytes)
            # MessageDraft(...) built as the tuple it is, without the call to its __new__.
            add(
                new(MessageDraft, (
                    next(turns), data, None, request.attributes, request.priority,
                    _DEFAULT_MODE, now, None, None, None, compression,
                ))
            )  # fmt: skip
        return drafts

    def _draft(
        self, topic: Topic, request: PublishRequest, now: float, index: int, internal: bool
    ) -> MessageDraft:
        check_message(request, self._limits, now, index, internal)
        data, compression = pack(request.data, topic.compression, topic.compression_min_bytes)
        key = request.key
        ttl = request.ttl_seconds
        return MessageDraft(
            self._partition_of(topic, key, request.dedup_id),
            data,
            key,
            request.attributes,
            request.priority,
            request.delivery_mode,
            now,
            None if ttl is None else now + ttl,
            _deliver_at(request, now),
            request.dedup_id,
            compression,
        )

    def _partition_of(self, topic: Topic, key: str | None, dedup_id: str | None) -> int:
        """By key; a keyless message with a dedup id by that id, so that a retry lands in
        the partition of the first attempt (a backend may keep dedup records per
        partition); other keyless messages take the partitions in turn."""
        if key is not None:
            return partition_for_key(key, topic.partitions)
        if dedup_id:
            return partition_for_key(dedup_id, topic.partitions)
        return next(self._turns_of(topic))

    def _turns_of(self, topic: Topic) -> Iterator[int]:
        """Keyless messages take the topic's partitions in turn."""
        turns = self._turns.get(topic.name)
        if turns is None:
            turns = self._turns[topic.name] = itertools.cycle(range(topic.partitions))
        return turns


_DATA = operator.attrgetter("data")
#: Enum members looked up once: a class attribute lookup on an Enum is slow on a hot path.
_UNCOMPRESSED = Compression.NONE
_DEFAULT_MODE = DeliveryMode.AT_LEAST_ONCE


def _deliver_at(request: PublishRequest, now: float) -> float | None:
    if request.deliver_at is not None:
        return request.deliver_at
    if request.delay_seconds:
        return now + request.delay_seconds
    return None
