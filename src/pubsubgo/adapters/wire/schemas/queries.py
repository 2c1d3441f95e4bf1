"""Query strings: strict like bodies (unknown parameters refused), read from their text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal, Protocol

from msgspec import Meta, Struct, field

from pubsubgo.adapters.wire.codec import JsonInteger
from pubsubgo.core.names import NamePage
from pubsubgo.services.topics import MAX_BROWSE_LIMIT

from .fields import MESSAGE_ID_REGEX, NAME_REGEX, Name

#: The most names a list answers with at once (and how many when not told).
MAX_LIST_LIMIT = 1000
#: A name prefix: the characters names have (possibly none).
PREFIX_REGEX = r"^[A-Za-z0-9._-]*$"

#: ``true`` or ``false`` in a query string (not ``1``, ``yes`` or ``on``).
QueryBool = Literal["true", "false"]


class BrowseLimit(JsonInteger):
    """How many messages one browse may answer."""

    minimum = 1
    maximum = MAX_BROWSE_LIMIT


class ListLimit(JsonInteger):
    """How many names one list may answer."""

    minimum = 1
    maximum = MAX_LIST_LIMIT


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


class ListQuery(Query):
    """What every list takes: a page of at most ``limit`` names starting with ``prefix``,
    from where ``page_token`` (a previous page's ``next_page_token``) says."""

    prefix: Annotated[
        str, Meta(pattern=PREFIX_REGEX, max_length=249, description="names starting with it")
    ] = ""
    limit: ListLimit = ListLimit.default(MAX_LIST_LIMIT)
    page_token: (
        Annotated[
            str,
            Meta(
                pattern=NAME_REGEX,
                max_length=249,
                description="the next_page_token of the previous page: the list goes on"
                " after the name it holds",
            ),
        ]
        | None
    ) = None

    @property
    def page(self) -> NamePage:
        """The page of names asked for (``page_token``: the name it starts after)."""
        return NamePage(self.prefix, self.page_token or "", self.limit)


class ListTopicsQuery(ListQuery):
    """Query of ``GET /v1/topics``."""


class ListSubscriptionsQuery(ListQuery):
    """Query of ``GET /v1/subscriptions``: with ``topic``, only that topic's."""

    topic: Name | None = None


class Named(Protocol):
    """A listed thing: a topic or a subscription."""

    @property
    def name(self) -> str: ...


def next_page(page: Sequence[Named], limit: int) -> str | None:
    """The token of the page after ``page`` (the name it ends with, which the next page
    starts after), or None when ``page`` was the last (short)."""
    return page[-1].name if len(page) == limit else None
