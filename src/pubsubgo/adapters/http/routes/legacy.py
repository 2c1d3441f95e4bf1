"""PubSubGo aliases of publish, so that PubSubGo clients keep working."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aiohttp import web

from pubsubgo.adapters.wire.access import Access, principal_of
from pubsubgo.adapters.wire.api import RouteTable
from pubsubgo.adapters.wire.codec import InvalidRequest, convert
from pubsubgo.adapters.wire.errors import TooManyMessages
from pubsubgo.adapters.wire.keys import BROKER, SETTINGS
from pubsubgo.adapters.wire.parsing import json_response, read_body
from pubsubgo.adapters.wire.schemas.legacy import LegacyBatch, LegacyMessage, RawBatch
from pubsubgo.adapters.wire.schemas.responses import (
    LegacyBatchResponse,
    LegacyFailure,
    LegacyPublishResponse,
)
from pubsubgo.core.access import Action, Principal
from pubsubgo.core.errors import ErrorKind, InvalidArgument, PubSubError
from pubsubgo.core.messages import PublishRequest
from pubsubgo.services.publisher import PublisherService

routes = RouteTable(tag="PubSubGo compatibility")

#: Failures that belong to one message; anything else (no topic, storage down) fails the
#: whole request as usual.
_PER_MESSAGE = {ErrorKind.INVALID, ErrorKind.TOO_LARGE}


class BatchRejected(InvalidArgument):
    """Raised when no entry of a legacy batch could be published."""

    code = "batch_rejected"

    def __init__(self, failed: Sequence[LegacyFailure]) -> None:
        super().__init__(f"none of the {len(failed)} messages was published")
        self.failed = failed

    def details(self) -> dict[str, object]:
        return {"failed": [{"index": f.index, "error": f.error} for f in self.failed]}


@routes.route(
    "POST", "/v1/publish/{topic}", summary="Publish one message (PubSubGo)",
    body=LegacyMessage, responses={201: LegacyPublishResponse}, errors=(400, 404, 413, 429, 503),
    access=Access.to(Action.PUBLISH, "topic"),
)  # fmt: skip
async def publish_one(request: web.Request) -> web.Response:
    message = await read_body(request, LegacyMessage)
    topic = request.match_info["topic"]
    ids = await request.app[BROKER].publisher.publish(
        topic, [message.to_request()], creator=principal_of(request)
    )
    return json_response(LegacyPublishResponse(message_id=ids[0], topic=topic), 201)


@routes.route(
    "POST", "/v1/publish/{topic}/batch", summary="Publish a batch (PubSubGo)",
    description="Entries fail one by one: 206 lists the failed ones, with a null id.",
    body=LegacyBatch, access=Access.to(Action.PUBLISH, "topic"),
    responses={201: LegacyBatchResponse, 206: LegacyBatchResponse},
    errors=(400, 404, 413, 429, 503),
)  # fmt: skip
async def publish_batch(request: web.Request) -> web.Response:
    raw = await read_body(request, RawBatch)
    limit = request.app[SETTINGS].limits.max_batch_messages
    if len(raw.messages) > limit:
        raise TooManyMessages(len(raw.messages), limit)
    topic = request.match_info["topic"]
    ids: list[str | None] = [None] * len(raw.messages)
    failed: list[LegacyFailure] = []
    valid = _validate(raw.messages, failed)
    publisher = request.app[BROKER].publisher
    await _publish(publisher, principal_of(request), topic, valid, ids, failed)
    if len(failed) == len(ids):
        raise BatchRejected(sorted(failed, key=lambda f: f.index))
    answer = LegacyBatchResponse(
        topic=topic, message_ids=ids, failed=sorted(failed, key=lambda f: f.index)
    )
    return json_response(answer, 206 if failed else 201)


def _validate(
    entries: Sequence[dict[str, Any]], failed: list[LegacyFailure]
) -> dict[int, PublishRequest]:
    valid: dict[int, PublishRequest] = {}
    for index, entry in enumerate(entries):
        try:
            valid[index] = convert(entry, LegacyMessage).to_request()
        except InvalidRequest as error:
            failed.append(_failure(index, error.code, error.message, **error.details()))
    return valid


async def _publish(
    publisher: PublisherService,
    creator: Principal,
    topic: str,
    valid: dict[int, PublishRequest],
    ids: list[str | None],
    failed: list[LegacyFailure],
) -> None:
    """Publish the valid entries together; if one of them is refused, one at a time."""
    if not valid:
        return
    try:
        stored = await publisher.publish(topic, list(valid.values()), creator=creator)
    except PubSubError as error:
        if error.kind not in _PER_MESSAGE:
            raise
    else:
        for index, id_ in zip(valid, stored, strict=True):
            ids[index] = id_
        return
    for index, message in valid.items():
        try:
            ids[index] = (await publisher.publish(topic, [message], creator=creator))[0]
        except PubSubError as error:
            if error.kind not in _PER_MESSAGE:
                raise
            failed.append(_failure(index, error.code, error.message, **error.details()))


def _failure(index: int, code: str, message: str, **details: Any) -> LegacyFailure:
    return LegacyFailure(index=index, error={"code": code, "message": message, **details})
