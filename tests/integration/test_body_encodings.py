"""Request bodies in a Content-Encoding: decoded when they are what the header says, and
refused in the JSON error shape (never a 500 or a plain-text answer) when they are not."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable
from typing import Any

import brotli  # type: ignore[import-untyped]
import pytest

from tests.integration.conftest import Client, create_topic

try:
    from compression import zstd  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # Python < 3.14
    from backports import zstd  # type: ignore[no-redef,unused-ignore]

BODY = b'{"messages": [{"data": "coded"}]}'
#: Bytes that are no valid stream of any of the codings.
GARBAGE = b"this is not a compressed stream, whatever the header says" * 4


def _encoded(encoding: str, body: bytes) -> bytes:
    coders: dict[str, Callable[[bytes], bytes]] = {
        "gzip": gzip.compress,
        "deflate": zlib.compress,
        "br": brotli.compress,
        "zstd": zstd.compress,
        "identity": bytes,
    }
    return coders[encoding](body)


async def _post(
    client: Client, topic: str, body: bytes, encoding: str
) -> tuple[int, dict[str, Any]]:
    response = await client.post(
        f"/v1/topics/{topic}/messages",
        data=body,
        headers={"Content-Type": "application/json", "Content-Encoding": encoding},
        compress=None,
    )
    assert response.content_type == "application/json"
    return response.status, await response.json()


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd", "identity", "GZIP"])
async def test_a_body_in_a_supported_encoding_is_decoded_and_published(
    client: Client, encoding: str
) -> None:
    # Given a topic
    topic = await create_topic(client)
    # When a message is published in a coded body
    status, answer = await _post(client, topic, _encoded(encoding.lower(), BODY), encoding)
    # Then it is stored as sent
    assert status == 201, answer
    fetched = await client.get(f"/v1/topics/{topic}/messages/{answer['ids'][0]}")
    assert (await fetched.json())["data"] == "coded"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "br", "zstd"])
async def test_a_body_that_is_not_what_its_encoding_says_is_a_400(
    client: Client, encoding: str
) -> None:
    topic = await create_topic(client)
    status, answer = await _post(client, topic, GARBAGE, encoding)
    assert status == 400
    assert answer["error"]["code"] == "undecodable_body"


@pytest.mark.parametrize("encoding", ["compress", "gzip, br", "x-unknown"])
async def test_an_encoding_the_broker_does_not_decode_is_refused(
    client: Client, encoding: str
) -> None:
    topic = await create_topic(client)
    status, answer = await _post(client, topic, _encoded("gzip", BODY), encoding)
    assert status == 400
    assert answer["error"]["code"] == "unsupported_content_encoding"
