"""Query strings: strict like bodies (unknown parameters refused), read from their text."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Annotated, Literal, Protocol

from msgspec import Meta, Struct, field

from pubsubgo.core.errors import InvalidArgument
from pubsubgo.core.names import NAME_PATTERN
from pubsubgo.services.topics import MAX_BROWSE_LIMIT

from .fields import MESSAGE_ID_REGEX, Name

#: The most names a list answers with at once (and how many when not told).
MAX_LIST_LIMIT = 1000
#: A name prefix: the characters names have (possibly none).
PREFIX_REGEX = r"^[A-Za-z0-9._-]*$"

#: ``true`` or ``false`` in a query string (not ``1``, ``yes`` or ``on``).
QueryBool = Literal["true", "false"]


class Query(Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of query strings."""


class BrowseQuery(Query):
    """Query of ``GET /v1/topics/{topic}/messages``."""

    after: Annotated[str, Meta(pattern=MESSAGE_ID_REGEX)] | None = None
    limit: Annotated[int, Meta(ge=1, le=MAX_BROWSE_LIMIT)] = 100


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
    limit: Annotated[int, Meta(ge=1, le=MAX_LIST_LIMIT)] = MAX_LIST_LIMIT
    page_token: (
        Annotated[
            str,
            Meta(
                min_length=1,
                max_length=400,
                description="the next_page_token of the previous page (opaque)",
            ),
        ]
        | None
    ) = None

    @property
    def after(self) -> str:
        """The name the page starts after (``""``: the first page).

        Raises:
            InvalidArgument: the token is not one a list gave.
        """
        return "" if self.page_token is None else name_after(self.page_token)


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
    """The token of the page after ``page``, or None when ``page`` was the last (short)."""
    return page_token(page[-1].name) if len(page) == limit else None


def page_token(last_name: str) -> str:
    """The token of the page after ``last_name``: opaque to clients, so the form may change."""
    return base64.urlsafe_b64encode(f"{_TOKEN_VERSION}{last_name}".encode()).decode().rstrip("=")


def name_after(token: str) -> str:
    """The name a :func:`page_token` stands for.

    Raises:
        InvalidArgument: ``token`` is not one :func:`page_token` made.
    """
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        text = ""
    name = text.removeprefix(_TOKEN_VERSION)
    if not (text.startswith(_TOKEN_VERSION) and NAME_PATTERN.fullmatch(name)):
        raise InvalidArgument("page_token is not one a list answered with", field="page_token")
    return name


#: What a page token starts with, so that a later form can tell an older one.
_TOKEN_VERSION = "n:"
