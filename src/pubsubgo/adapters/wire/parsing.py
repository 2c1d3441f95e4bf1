"""Reading requests into schema types and writing schema types as responses."""

from __future__ import annotations

import re
from typing import TypeVar

from aiohttp import web
from msgspec import Struct

from pubsubgo.adapters.wire.codec import convert, decode, encode
from pubsubgo.adapters.wire.errors import (
    UndecodableBody,
    UnsupportedContentEncoding,
    UnsupportedContentType,
)
from pubsubgo.adapters.wire.schemas.fields import MESSAGE_ID_REGEX
from pubsubgo.core.errors import InvalidArgument, MessageNotFound
from pubsubgo.core.messages import MessageId

M = TypeVar("M", bound=Struct)

_MESSAGE_ID = re.compile(MESSAGE_ID_REGEX)
#: The Content-Encodings aiohttp decodes a request body from (one coding, not a list).
BODY_ENCODINGS = frozenset({"identity", "gzip", "deflate", "br", "zstd"})
#: What an omitted body means: every field at its default (the body of ``pull`` or
#: ``members`` is optional).
_EMPTY_BODY = b"{}"


async def read_body(request: web.Request, model: type[M]) -> M:
    """The JSON body as ``model``; an empty body counts as ``{}``.

    Raises:
        UnsupportedContentType: the body is not declared as JSON.
        UnsupportedContentEncoding: its Content-Encoding is not one aiohttp decodes.
        UndecodableBody: the body is not what its Content-Encoding says.
        InvalidJson: the body is not JSON.
        InvalidRequest: wrong types, unknown or missing fields, values out of range.
        aiohttp.web.HTTPRequestEntityTooLarge: over the body size limit.
    """
    return decode(await read_json(request), model)


async def read_json(request: web.Request) -> bytes:
    """The body as sent, for a route that decodes it itself; an empty body counts as ``{}``.

    Raises:
        UnsupportedContentType: the body is not declared as JSON.
        UnsupportedContentEncoding: its Content-Encoding is not one aiohttp decodes.
        UndecodableBody: the body is not what its Content-Encoding says.
        aiohttp.web.HTTPRequestEntityTooLarge: over the body size limit.
    """
    encoding = request.headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in BODY_ENCODINGS:
        # aiohttp would hand the coded bytes on as they are: refuse rather than misread.
        raise UnsupportedContentEncoding(encoding, ", ".join(sorted(BODY_ENCODINGS)))
    try:
        raw = await request.read()
    except web.RequestPayloadError:
        raise UndecodableBody(encoding) from None
    if not raw.strip():
        return _EMPTY_BODY
    if not _is_json(request):
        raise UnsupportedContentType(request.headers.get("Content-Type", ""))
    return raw


def read_query(request: web.Request, model: type[M]) -> M:
    """The query string as ``model``.

    Raises:
        InvalidArgument: a parameter is given more than once (which value was meant?).
        InvalidRequest: unknown parameters or bad values.
    """
    query = request.query
    for name in query:
        if len(query.getall(name)) > 1:
            raise InvalidArgument(f"query parameter {name!r} is given more than once", field=name)
    return convert(dict(query), model, from_strings=True)


def message_id(request: web.Request) -> MessageId:
    """The message id in the path: one that is not of the broker's form names no message.

    Raises:
        MessageNotFound: the id is malformed (not ``<partition>-<position>`` in ASCII
            digits), so no message has it.
    """
    id_ = request.match_info["id"]
    if not _MESSAGE_ID.fullmatch(id_):
        raise MessageNotFound(request.match_info["topic"], id_)
    return MessageId(id_)


def json_response(body: Struct, status: int = 200) -> web.Response:
    """``body`` as a JSON response (None fields included, so every key is always present)."""
    return json_body(encode(body), status)


def json_body(body: bytes, status: int = 200) -> web.Response:
    """A response of JSON already serialized, with the headers of :func:`json_response`."""
    return web.Response(body=body, status=status, content_type="application/json")


def _is_json(request: web.Request) -> bool:
    if "Content-Type" not in request.headers:
        return True  # a client that says nothing about its body gets the benefit of the doubt
    content_type = request.content_type
    return content_type == "application/json" or content_type.endswith("+json")
