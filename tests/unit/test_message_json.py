"""The JSON of delivered and stored messages (pull answers, WebSocket frames, push bodies):
data as text or base64, times in RFC 3339 with a Z, every field present."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from pubsubgo.adapters.wire.codec import encode
from pubsubgo.adapters.wire.schemas.frames import message_frame
from pubsubgo.adapters.wire.schemas.messages import ReceivedMessage, message_view, received_message
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
    253_402_300_799.0,
]


def message(data: bytes, published_at: float = 1_700_000_000.0) -> Message:
    return Message(
        MessageId("0-1"),
        "orders",
        0,
        data,
        "key",
        {"k": "v"},
        Priority.HIGH,
        DeliveryMode.AT_LEAST_ONCE,
        published_at,
        expires_at=published_at,
    )


def delivered(data: bytes, published_at: float = 1_700_000_000.0) -> Delivery:
    return Delivery(message(data, published_at), AckId("a-1"), 2, "billing", published_at)


@pytest.mark.parametrize("text", AWKWARD_TEXTS)
def test_text_comes_back_as_it_was_published(text: str) -> None:
    written = json.loads(encode(received_message(delivered(text.encode()))))
    assert (written["data"], written["encoding"]) == (text, "utf-8")


def test_bytes_that_are_not_utf8_are_base64() -> None:
    written = json.loads(encode(message_view(message(b"\xff\x00"))))
    assert base64.b64decode(written["data"]) == b"\xff\x00"
    assert written["encoding"] == "base64"


@pytest.mark.parametrize("seconds", AWKWARD_TIMES)
def test_times_are_rfc_3339_in_utc_to_the_microsecond(seconds: float) -> None:
    written = json.loads(encode(received_message(delivered(b"x", seconds))))
    expected = datetime.fromtimestamp(seconds, UTC)
    assert datetime.fromisoformat(written["published_at"]) == expected
    assert written["published_at"].endswith("Z")
    assert datetime.fromisoformat(written["deadline"]) == expected


def test_every_field_of_a_received_message_is_written() -> None:
    written = json.loads(encode(received_message(delivered(b"x"))))
    assert set(written) == set(ReceivedMessage.__struct_fields__)
    assert (written["ack_id"], written["delivery_attempt"], written["subscription"]) == (
        "a-1",
        2,
        "billing",
    )
    assert (written["priority"], written["key"], written["attributes"]) == (
        "high",
        "key",
        {"k": "v"},
    )
    assert written["deliver_at"] is None


def test_a_message_frame_is_the_received_message_with_its_type_first() -> None:
    delivery = delivered(b"x")
    frame = json.loads(encode(message_frame(delivery)))
    assert next(iter(frame)) == "type"
    assert frame == {"type": "message", **json.loads(encode(received_message(delivery)))}


def test_a_view_does_not_share_the_stored_attributes() -> None:
    stored = message(b"x")
    view = message_view(stored)
    view.attributes["added"] = "x"
    assert "added" not in stored.attributes
