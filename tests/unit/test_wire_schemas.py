"""The wire schemas accept exactly what their JSON Schema says, and refuse the rest with
our own error code and the field at fault."""

from __future__ import annotations

import base64
import re

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pubsubgo.adapters.wire.codec import InvalidJson, InvalidRequest, decode, schema_hook
from pubsubgo.adapters.wire.schemas.fields import BASE64_REGEX, MAX_EPOCH_SECONDS, decode_data
from pubsubgo.adapters.wire.schemas.requests import (
    CreateSubscription,
    CreateTopic,
    PublishMessages,
    PullRequest,
    SeekRequest,
)


def decodes(text: str) -> bool:
    """True when the server takes ``text`` as base64 message data."""
    try:
        decode_data(text, "base64")
    except ValueError:
        return False
    return True


def refusal(raw: str, schema: type[object]) -> tuple[str, str]:
    """The code and field of the refusal of ``raw``."""
    with pytest.raises((InvalidRequest, InvalidJson)) as refused:
        decode(raw, schema)
    return refused.value.code, refused.value.field or ""


class TestBase64:
    @given(st.text(alphabet="AZaz09+/=-_ \n\u00e9", max_size=16))
    def test_the_documented_pattern_matches_exactly_what_the_server_decodes(
        self, text: str
    ) -> None:
        assert bool(re.fullmatch(BASE64_REGEX, text)) == decodes(text)

    @given(st.binary(max_size=64))
    def test_every_encoding_of_bytes_matches_the_pattern(self, data: bytes) -> None:
        assert re.fullmatch(BASE64_REGEX, base64.b64encode(data).decode())


class TestRefusals:
    @pytest.mark.parametrize(
        ("raw", "schema", "field"),
        [
            ('{"name": "t", "partitions": 2.5}', CreateTopic, "partitions"),
            ('{"name": "t", "partitions": "2"}', CreateTopic, "partitions"),
            ('{"name": "t", "partitions": true}', CreateTopic, "partitions"),
            ('{"name": "t", "partitions": 0}', CreateTopic, "partitions"),
            ('{"name": "t", "partitions": 257}', CreateTopic, "partitions"),
            ('{"name": "bad name"}', CreateTopic, "name"),
            ('{"name": "t", "colour": "red"}', CreateTopic, "colour"),
            ("{}", CreateTopic, "name"),
            ('{"name": "t", "overflow": "explode"}', CreateTopic, "overflow"),
            ('["t"]', CreateTopic, ""),
            ('{"messages": []}', PublishMessages, "messages"),
            ('{"messages": [{"data": "x", "priority": "urgent"}]}', PublishMessages,
             "messages.0.priority"),
            ('{"messages": [{"data": "%%", "encoding": "base64"}]}', PublishMessages,
             "messages.0.data"),
            ('{"messages": [{"data": "x", "ttl_seconds": 0}]}', PublishMessages,
             "messages.0.ttl_seconds"),
            ('{"messages": [{"data": "x", "attributes": {"": "v"}}]}', PublishMessages,
             "messages.0.attributes"),
            ('{"max_messages": 1001}', PullRequest, "max_messages"),
            ('{"max_messages": 1e400}', PullRequest, "max_messages"),
            ('{"name": "s", "topic": "t", "type": "push"}', CreateSubscription,
             "push_endpoint"),
            ('{"name": "s", "topic": "t", "push_endpoint": "ftp://x"}', CreateSubscription,
             "push_endpoint"),
            ('{"name": "s", "topic": "t", "max_delivery_attempts": 3}', CreateSubscription,
             "dead_letter_topic"),
            ('{"name": "s", "topic": "t", "retry_policy": {"maximum_backoff_seconds": -1}}',
             CreateSubscription, "retry_policy.maximum_backoff_seconds"),
            ("{}", SeekRequest, "position"),
        ],
    )  # fmt: skip
    def test_each_problem_names_its_field(self, raw: str, schema: type[object], field: str) -> None:
        assert refusal(raw, schema) == ("invalid_request", field)

    @pytest.mark.parametrize("raw", ["{", '{"name": "t"} x', '{"name": NaN}', '"\\ud800"', ""])
    def test_what_is_not_json_is_invalid_json(self, raw: str) -> None:
        assert refusal(raw, CreateTopic)[0] == "invalid_json"

    def test_the_message_names_the_field_then_the_problem(self) -> None:
        with pytest.raises(InvalidRequest) as refused:
            decode('{"name": "t", "partitions": 0}', CreateTopic)
        assert refused.value.message.startswith("partitions: ")
        assert refused.value.details()["field"] == "partitions"


class TestIntegers:
    def test_an_integer_may_be_written_with_a_zero_fraction(self) -> None:
        # JSON Schema's integer includes 2.0, and so does the OpenAPI document
        topic = decode('{"name": "t", "partitions": 2.0, "max_messages": 1e3}', CreateTopic)
        assert topic.to_topic().partitions == 2
        assert type(topic.to_topic().max_messages) is int

    def test_the_document_states_the_bounds_of_an_integer(self) -> None:
        schema = msgspec.json.schema(CreateTopic, schema_hook=schema_hook)
        partitions = schema["$defs"]["CreateTopic"]["properties"]["partitions"]
        assert partitions == {"type": "integer", "minimum": 1, "maximum": 256}


class TestTimestamps:
    @pytest.mark.parametrize(
        "value", ['"2024-05-01T12:00:00Z"', '"2024-05-01t12:00:00.5+02:00"', "1714564800", "0"]
    )
    def test_rfc_3339_or_epoch_seconds_are_accepted(self, value: str) -> None:
        assert decode(f'{{"timestamp": {value}}}', SeekRequest).seconds is not None

    @pytest.mark.parametrize(
        "value",
        [
            '"2024-05-01"',
            '"2024-05-01T12:00:00"',
            '"20240501T120000Z"',
            '"1714564800"',
            "-1",
            str(MAX_EPOCH_SECONDS + 1),
            "1e400",
            "true",
            '"2024-02-30T00:00:00Z"',
        ],
    )
    def test_anything_else_is_refused_naming_the_timestamp(self, value: str) -> None:
        assert refusal(f'{{"timestamp": {value}}}', SeekRequest) == (
            "invalid_request",
            "timestamp",
        )
