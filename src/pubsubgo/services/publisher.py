"""PublisherService: validates messages, picks their partition and stores them."""

from __future__ import annotations

import itertools
import operator
import zlib
from collections.abc import Iterator, Mapping, Sequence

from pubsubgo.core.errors import InvalidMessage, MessageTooLarge, TooManyMessages
from pubsubgo.core.limits import Limits
from pubsubgo.core.messages import (
    Compression,
    DeliveryMode,
    MessageDraft,
    MessageId,
    PublishRequest,
)
from pubsubgo.core.topics import Topic
from pubsubgo.ports.clock import Clock
from pubsubgo.ports.message_log import MessageLog
from pubsubgo.ports.metrics import BrokerMetrics
from pubsubgo.ports.signals import MessageSignal
from pubsubgo.ports.topics import TopicRegistry
from pubsubgo.ports.tracing import MessageTracer
from pubsubgo.services.compression import pack
from pubsubgo.services.tracing import NullTracer


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
        signal: MessageSignal,
        clock: Clock,
        metrics: BrokerMetrics,
        limits: Limits | None = None,
        tracer: MessageTracer | None = None,
    ) -> None:
        self._topics = topics
        self._messages = messages
        self._signal = signal
        self._clock = clock
        self._metrics = metrics
        self._limits = limits or Limits()
        self._tracer = tracer or NullTracer()
        #: Keyless messages spread over partitions in turn, per topic.
        self._turns: dict[str, Iterator[int]] = {}

    async def publish(
        self, topic_name: str, requests: Sequence[PublishRequest], *, internal: bool = False
    ) -> list[MessageId]:
        """Store a batch and return one id per message, in order.

        Args:
            topic_name: the topic to publish to.
            requests: the messages.
            internal: the broker itself republishes (dead letters): attribute limits are not
                applied, since the broker adds its own ``x-`` attributes.

        Raises:
            TopicNotFound: no such topic.
            InvalidMessage: a message breaks a rule (index in the message).
            MessageTooLarge: a message or the batch is over its size limit.
            TopicFull: the topic is at ``max_messages`` with overflow ``reject``.
        """
        started = self._clock.monotonic()
        topic = await self._topics.get(topic_name)
        size = self._check_batch(requests)
        # A batch no bigger than the message limit cannot hold a message over it.
        sizes_checked = size <= self._limits.max_message_bytes
        now = self._clock.now()
        with self._tracer.publishing(topic.name, requests) as traced:
            drafts = self._drafts(topic, traced, now, internal, sizes_checked)
            ids = await self._messages.append(topic, drafts)
        self._signal.notify(topic.name)
        self._metrics.published(topic.name, len(ids), self._clock.monotonic() - started)
        return ids

    async def check(self, topic_name: str, requests: Sequence[PublishRequest]) -> None:
        """Refuse ``requests`` as :meth:`publish` would, without storing them: what a
        publisher that does not wait for the store (``?async=true``) is told at once.

        What only storing can tell (a full topic, storage down) is not checked.

        Raises:
            TopicNotFound: no such topic.
            InvalidMessage: a message breaks a rule.
            MessageTooLarge: a message or the batch is over its size limit.
        """
        await self._topics.get(topic_name)
        self._check_batch(requests)
        now = self._clock.now()
        for index, request in enumerate(requests):
            self._check_message(request, now, index, internal=False)

    def _check_batch(self, requests: Sequence[PublishRequest]) -> int:
        """Check the batch as a whole; returns its size in bytes."""
        limits = self._limits
        if not requests:
            raise InvalidMessage("a publish needs at least one message", field="messages")
        if len(requests) > limits.max_batch_messages:
            raise TooManyMessages(len(requests), limits.max_batch_messages)
        sizes = list(map(len, map(_DATA, requests)))  # C-level loops: once per message
        if not all(sizes):
            _refuse_empty(requests)
        size = sum(sizes)
        if size > limits.max_batch_bytes:
            raise MessageTooLarge(size, limits.max_batch_bytes, what="batch")
        return size

    def _drafts(
        self,
        topic: Topic,
        requests: Sequence[PublishRequest],
        now: float,
        internal: bool,
        sizes_checked: bool,
    ) -> list[MessageDraft]:
        """Validate and prepare a batch; one loop, as this runs once per message.

        ``sizes_checked``: no message can be over the size limit, so the plain path need not
        look (messages that set more than data and priority are always checked in full)."""
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
                add(self._draft(topic, request, now, len(drafts), internal))
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
        self._check_message(request, now, index, internal)
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

    def _check_message(
        self, request: PublishRequest, now: float, index: int, internal: bool
    ) -> None:
        limits = self._limits
        if len(request.data) > limits.max_message_bytes:
            raise MessageTooLarge(len(request.data), limits.max_message_bytes)
        # Most messages set few optional fields: check only those that are set.
        where = f"messages[{index}]"
        if request.attributes and not internal:
            _check_attributes(request.attributes, limits, where)
        if request.key is not None:
            _check_bytes(request.key, limits.max_key_bytes, f"{where}.key")
        if request.dedup_id is not None:
            _check_bytes(request.dedup_id, limits.max_dedup_id_bytes, f"{where}.dedup_id")
        if request.delivery_mode is DeliveryMode.EXACTLY_ONCE and not request.dedup_id:
            raise InvalidMessage(
                f"{where}: exactly_once delivery needs a dedup_id", field=f"{where}.dedup_id"
            )
        if request.ttl_seconds is not None:
            _check_seconds(request.ttl_seconds, limits, f"{where}.ttl_seconds", allow_zero=False)
        if request.delay_seconds is not None:
            _check_seconds(request.delay_seconds, limits, f"{where}.delay_seconds", allow_zero=True)
        if request.deliver_at is not None and request.deliver_at - now > limits.max_delay_seconds:
            raise InvalidMessage(
                f"{where}.deliver_at is more than {limits.max_delay_seconds:.0f} s ahead",
                field=f"{where}.deliver_at",
            )


_DATA = operator.attrgetter("data")
#: Enum members looked up once: a class attribute lookup on an Enum is slow on a hot path.
_UNCOMPRESSED = Compression.NONE
_DEFAULT_MODE = DeliveryMode.AT_LEAST_ONCE


def _refuse_empty(requests: Sequence[PublishRequest]) -> None:
    """Refuse a message with neither data nor attributes, as Google Pub/Sub does: it says
    nothing, and is most likely a client's mistake (an unset field)."""
    for index, request in enumerate(requests):
        if not request.data and not request.attributes:
            raise InvalidMessage(
                f"messages[{index}] is empty: a message needs data or at least one attribute",
                field=f"messages[{index}].data",
            )


def _deliver_at(request: PublishRequest, now: float) -> float | None:
    if request.deliver_at is not None:
        return request.deliver_at
    if request.delay_seconds:
        return now + request.delay_seconds
    return None


#: Trace context rides in attributes; it does not count against the user's allowance.
_TRACE_ATTRIBUTES = ("traceparent", "tracestate")


def _check_attributes(attributes: Mapping[str, str], limits: Limits, where: str) -> None:
    counted = len(attributes) - sum(name in attributes for name in _TRACE_ATTRIBUTES)
    if counted > limits.max_attributes:
        raise InvalidMessage(
            f"{where}: at most {limits.max_attributes} attributes, not {len(attributes)}",
            field=f"{where}.attributes",
        )
    for key, value in attributes.items():
        if not isinstance(key, str) or not isinstance(value, str) or not key:
            raise InvalidMessage(
                f"{where}: attribute names and values are non-empty strings",
                field=f"{where}.attributes",
            )
        _check_bytes(key, limits.max_attribute_key_bytes, f"{where}.attributes name {key[:32]!r}")
        _check_bytes(value, limits.max_attribute_value_bytes, f"{where}.attributes[{key[:32]!r}]")


def _check_bytes(value: str | None, limit: int, what: str) -> None:
    if value is not None and len(value.encode()) > limit:
        raise InvalidMessage(f"{what} is longer than {limit} bytes", field=what)


def _check_seconds(value: float, limits: Limits, what: str, *, allow_zero: bool) -> None:
    low_ok = value >= 0 if allow_zero else value > 0
    if not low_ok or value > limits.max_delay_seconds:
        bound = "0" if allow_zero else "more than 0"
        raise InvalidMessage(
            f"{what} must be {bound} and at most {limits.max_delay_seconds:.0f}", field=what
        )
