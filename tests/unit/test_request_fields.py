"""The request field types accept exactly what their JSON Schema says."""

from __future__ import annotations

import base64
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError

from pubsubgo.adapters.wire.schemas.fields import (
    BASE64_REGEX,
    MAX_EPOCH_SECONDS,
    Integer,
    Timestamp,
)
from pubsubgo.adapters.wire.schemas.requests import decode_data


class Model(BaseModel):
    model_config = ConfigDict(strict=True)

    count: Integer | None = None
    at: Timestamp | None = None


def decodes(text: str) -> bool:
    """True when the server takes ``text`` as base64 message data."""
    try:
        decode_data(text, "base64")
    except ValueError:
        return False
    return True


class TestBase64:
    @given(st.text(alphabet="AZaz09+/=-_ \n\u00e9", max_size=16))
    def test_the_documented_pattern_matches_exactly_what_the_server_decodes(
        self, text: str
    ) -> None:
        assert bool(re.fullmatch(BASE64_REGEX, text)) == decodes(text)

    @given(st.binary(max_size=64))
    def test_every_encoding_of_bytes_matches_the_pattern(self, data: bytes) -> None:
        assert re.fullmatch(BASE64_REGEX, base64.b64encode(data).decode())


class TestIntegers:
    def test_an_integer_may_be_written_with_a_zero_fraction(self) -> None:
        assert Model.model_validate_json('{"count": 2.0}').count == 2

    @pytest.mark.parametrize("body", ['{"count": 2.5}', '{"count": "2"}', '{"count": true}'])
    def test_fractions_strings_and_booleans_are_not_integers(self, body: str) -> None:
        with pytest.raises(ValidationError):
            Model.model_validate_json(body)


class TestTimestamps:
    @pytest.mark.parametrize(
        "value", ['"2024-05-01T12:00:00Z"', '"2024-05-01t12:00:00.5+02:00"', "1714564800", "0"]
    )
    def test_rfc_3339_or_epoch_seconds_are_accepted(self, value: str) -> None:
        assert Model.model_validate_json(f'{{"at": {value}}}').at is not None

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
    def test_anything_else_is_refused_without_an_exception_escaping(self, value: str) -> None:
        with pytest.raises(ValidationError):
            Model.model_validate_json(f'{{"at": {value}}}')
