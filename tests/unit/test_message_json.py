"""The JSON of delivered and stored messages: what ``delivery_fields`` and ``message_fields``
serialize to with ``orjson`` (pull answers, WebSocket frames, push bodies) is byte for byte
what the pydantic response models write for the same message."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest

from pubsubgo.adapters.wire.schemas.messages import (
    MessageView,
    ReceivedMessage,
    delivery_fields,
    message_fields,
)
from pubsubgo.adapters.wire.schemas.responses import PullResponse
from pubsubgo.core.messages import AckId, Delivery, DeliveryMode, Message, MessageId, Priority

#: Texts that JSON writers are known to escape differently, if at all.
AWKWARD_TEXTS = [
    "",
    "plain",
    'quote " and backslash \\ and slash /',
    "controls \x00\x01\x08\t\n\x0b\x0c\r\x1f\x7f",
    "é ü 中文 😀",
    "line separators \u2028 \u2029",
    "<script>&amp;</script>",
]
#: Seconds since the epoch around the edges of microsecond rounding.
AWKWARD_TIMES = [
    0.0,
    1_700_000_000.0,
    1_700_000_000.5,
    1_700_000_000.123456,
    1_700_000_000.1234565,
    1_700_000_000.9999995,
    1_700_000_000.000001,
    1_700_000_000.0000004,
    253_402_300_799.0,
]


def reference_fields(message: Message) -> dict[str, Any]:
    """The fields as the pydantic models were always given them: aware datetimes and a
    copy of the attributes."""
    try:
        text, encoding = message.data.decode(), "utf-8"
    except UnicodeDecodeError:
        text, encoding = base64.b64encode(message.data).decode("ascii"), "base64"

    def when(seconds: float | None) -> datetime | None:
        return None if seconds is None else datetime.fromtimestamp(seconds, UTC)

    return {
        "id": message.id,
        "topic": message.topic,
        "partition": message.partition,
        "key": message.key,
        "data": text,
        "encoding": encoding,
        "attributes": dict(message.attributes),
        "priority": message.priority,
        "delivery_mode": message.delivery_mode,
        "published_at": when(message.published_at),
        "expires_at": when(message.expires_at),
        "deliver_at": when(message.deliver_at),
        "dedup_id": message.dedup_id,
    }


def reference_pull(deliveries: list[Delivery]) -> bytes:
    received = [
        ReceivedMessage(
            **reference_fields(d.message),
            ack_id=d.ack_id,
            delivery_attempt=d.delivery_attempt,
            subscription=d.subscription,
            deadline=datetime.fromtimestamp(d.deadline, UTC),
        )
        for d in deliveries
    ]
    return PullResponse(messages=received).model_dump_json().encode()


def pull_json(deliveries: list[Delivery]) -> bytes:
    """How the pull route writes its answer."""
    return orjson.dumps(
        {"messages": [delivery_fields(d) for d in deliveries]}, option=orjson.OPT_UTC_Z
    )


def random_message(rng: random.Random, index: int) -> Message:
    data = rng.choice(
        [
            rng.choice(AWKWARD_TEXTS).encode(),
            rng.randbytes(rng.randint(0, 40)),  # mostly not UTF-8: base64
            b"\xff\xfe",
        ]
    )
    attributes = rng.choice([{}, {"k": rng.choice(AWKWARD_TEXTS)}, {"a": "1", "b": "2", "é": "\n"}])
    return Message(
        MessageId(f"{index % 4}-{index}"),
        "topic.a",
        index % 4,
        data,
        rng.choice([None, "key", rng.choice(AWKWARD_TEXTS)]),
        attributes,
        rng.choice(list(Priority)),
        rng.choice(list(DeliveryMode)),
        rng.choice([*AWKWARD_TIMES, 1_700_000_000 + rng.random() * 1e6]),
        rng.choice([None, *AWKWARD_TIMES]),
        rng.choice([None, 1_700_000_000.25, rng.random() * 2e9]),
        rng.choice([None, "dedup-1", rng.choice(AWKWARD_TEXTS)]),
    )


def random_deliveries(seed: int, count: int) -> list[Delivery]:
    rng = random.Random(seed)
    deadline = 1_700_000_030.0
    deliveries = []
    for index in range(count):
        if rng.random() < 0.3:  # runs of one deadline, as a claim makes, and changes
            deadline = rng.choice([*AWKWARD_TIMES, 1_700_000_000 + rng.random() * 1e6])
        deliveries.append(
            Delivery(
                random_message(rng, index),
                AckId(f"ack-{index}-{rng.choice(AWKWARD_TEXTS)}"),
                rng.randint(1, 5),
                "sub.a",
                deadline,
            )
        )
    return deliveries


class TestPullAnswer:
    @pytest.mark.parametrize("seed", range(20))
    def test_is_the_json_of_the_pull_response_model(self, seed: int) -> None:
        deliveries = random_deliveries(seed, 50)
        assert pull_json(deliveries) == reference_pull(deliveries)

    @pytest.mark.parametrize("seconds", AWKWARD_TIMES)
    def test_times_are_written_as_the_model_writes_them(self, seconds: float) -> None:
        message = Message(
            MessageId("0-1"), "t", 0, b"x", None, {}, Priority.NORMAL,
            DeliveryMode.AT_LEAST_ONCE, seconds, seconds, seconds, None,
        )  # fmt: skip
        deliveries = [Delivery(message, AckId("a"), 1, "s", seconds)]
        assert pull_json(deliveries) == reference_pull(deliveries)

    def test_an_empty_pull_is_an_empty_list(self) -> None:
        assert pull_json([]) == reference_pull([]) == b'{"messages":[]}'

    def test_deliveries_with_different_deadlines_keep_their_own(self) -> None:
        deliveries = random_deliveries(0, 3)
        alternating = [
            d._replace(deadline=float(t)) for d, t in zip(deliveries, [5, 6, 5], strict=True)
        ]
        written = orjson.loads(pull_json(alternating))["messages"]
        assert [m["deadline"] for m in written] == [
            "1970-01-01T00:00:05Z",
            "1970-01-01T00:00:06Z",
            "1970-01-01T00:00:05Z",
        ]


class TestStoredMessage:
    @pytest.mark.parametrize("seed", range(5))
    def test_the_view_is_unchanged(self, seed: int) -> None:
        rng = random.Random(seed)
        for index in range(30):
            message = random_message(rng, index)
            expected = MessageView(**reference_fields(message)).model_dump_json()
            assert MessageView.of(message).model_dump_json() == expected
            written = orjson.dumps(message_fields(message), option=orjson.OPT_UTC_Z)
            assert written == expected.encode()

    @pytest.mark.parametrize("attributes", [{}, {"k": "v"}])
    def test_changing_the_fields_leaves_the_message_alone(self, attributes: dict[str, str]) -> None:
        message = Message(
            MessageId("0-1"), "t", 0, b"x", None, attributes, Priority.NORMAL,
            DeliveryMode.AT_LEAST_ONCE, 1.0,
        )  # fmt: skip
        message_fields(message)["attributes"]["added"] = "x"
        assert "added" not in message.attributes
