"""Query strings: strict like bodies (unknown parameters refused), read from their text."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct, field

from pubsubgo.adapters.wire.codec import JsonInteger
from pubsubgo.services.topics import MAX_BROWSE_LIMIT

from .fields import MESSAGE_ID_REGEX

#: ``true`` or ``false`` in a query string (not ``1``, ``yes`` or ``on``).
QueryBool = Literal["true", "false"]


class BrowseLimit(JsonInteger):
    """How many messages one browse may answer."""

    minimum = 1
    maximum = MAX_BROWSE_LIMIT


class Query(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of query strings."""


class BrowseQuery(Query):
    """Query of ``GET /v1/topics/{topic}/messages``."""

    after: Annotated[str, Meta(pattern=MESSAGE_ID_REGEX)] | None = None
    limit: BrowseLimit = BrowseLimit.default(100)


class ForceQuery(Query):
    """Query of ``DELETE /v1/topics/{topic}``."""

    force: QueryBool = "false"


class PublishQuery(Query):
    """Query of ``POST /v1/topics/{topic}/messages``: ``async=true`` answers 202 at once."""

    async_: QueryBool = field(default="false", name="async")


class ListSubscriptionsQuery(Query):
    """Query of ``GET /v1/subscriptions``: only the subscriptions of ``topic``."""

    topic: str | None = None
