"""Topics: named, partitioned logs of messages, and their statistics."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum

from pubsubgo.core.errors import InvalidSetting
from pubsubgo.core.messages import Compression, MessageId
from pubsubgo.core.names import validate_name

#: DESIGN §2: a topic has 1..256 partitions.
MAX_PARTITIONS = 256
#: Seven days, the default retention.
DEFAULT_RETENTION_SECONDS = 7 * 24 * 3600


class Overflow(StrEnum):
    """What a topic at ``max_messages`` does with a new publish."""

    #: The publish fails with ``topic_full`` (HTTP 429).
    REJECT = "reject"
    #: The oldest stored messages are removed to make room.
    DROP_OLDEST = "drop_oldest"


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic and its storage policy."""

    name: str
    partitions: int = 1
    retention_seconds: int = DEFAULT_RETENTION_SECONDS
    max_messages: int = 0
    overflow: Overflow = Overflow.REJECT
    dedup_window_seconds: int = 120
    compression: Compression = Compression.NONE
    compression_min_bytes: int = 1024
    created_at: float = 0.0

    def __post_init__(self) -> None:
        validate_name(self.name, "topic")
        _require(1 <= self.partitions <= MAX_PARTITIONS, "partitions", "must be 1..256")
        _require(self.retention_seconds > 0, "retention_seconds", "must be positive")
        _require(self.max_messages >= 0, "max_messages", "must be 0 (unbounded) or more")
        _require(self.dedup_window_seconds >= 0, "dedup_window_seconds", "must be 0 or more")
        _require(self.compression_min_bytes >= 0, "compression_min_bytes", "must be 0 or more")

    @property
    def is_bounded(self) -> bool:
        """True when ``max_messages`` limits the topic."""
        return self.max_messages > 0


@dataclass(frozen=True, slots=True)
class AutoCreate:
    """Topics created by their first publish (``topics.auto_create``), with ``partitions``
    and every other setting at its default."""

    partitions: int = 1

    def topic(self, name: str, now: float) -> Topic:
        """The topic a first publish to ``name`` creates at ``now``."""
        return Topic(name, partitions=self.partitions, created_at=now)


@dataclass(frozen=True, slots=True)
class TopicChanges:
    """Settings to change on an existing topic; None leaves a setting as it is.

    ``partitions`` can only be named with the count the topic has: a key's messages go to
    the partition its hash picks among them, so another count would move keys to other
    partitions and break their order (and the group assignments). A topic that needs more
    partitions is a new topic.
    """

    partitions: int | None = None
    retention_seconds: int | None = None
    max_messages: int | None = None
    overflow: Overflow | None = None
    dedup_window_seconds: int | None = None
    compression: Compression | None = None
    compression_min_bytes: int | None = None

    def applied_to(self, topic: Topic) -> Topic:
        """``topic`` with these changes.

        Raises:
            InvalidSetting: ``partitions`` differs from the topic's, or a value is out of
                range.
        """
        if self.partitions is not None and self.partitions != topic.partitions:
            raise InvalidSetting(
                f"partitions cannot change once a topic exists (it has {topic.partitions}):"
                " keys would move to other partitions and lose their order; create a new topic",
                field="partitions",
            )
        changed = {k: v for k, v in asdict(self).items() if v is not None and k != "partitions"}
        return replace(topic, **changed)


@dataclass(frozen=True, slots=True)
class PartitionSummary:
    """What one partition of a topic holds: how many messages, the first and the last."""

    partition: int
    depth: int
    #: The oldest stored message's id, and the newest's; None when the partition is empty.
    first_id: MessageId | None
    last_id: MessageId | None


@dataclass(frozen=True, slots=True)
class TopicStats:
    """What a topic holds now and how it has been used."""

    messages: int
    bytes: int
    partition_depths: tuple[int, ...]
    publish_count: int
    last_publish_at: float | None
    extra: Mapping[str, float] = field(default_factory=dict)


def _require(ok: bool, setting: str, rule: str) -> None:
    if not ok:
        raise InvalidSetting(f"{setting} {rule}", field=setting)
