"""Query-string models: strict like bodies, with the few types a query string can carry."""

from __future__ import annotations

from pydantic import ConfigDict, Field

from pubsubgo.services.topics import MAX_BROWSE_LIMIT

from .fields import MESSAGE_ID_REGEX, QueryBool, QueryInt
from .requests import Strict


class BrowseQuery(Strict):
    """Query of ``GET /v1/topics/{topic}/messages``."""

    after: str | None = Field(None, pattern=MESSAGE_ID_REGEX)
    limit: QueryInt = Field(100, ge=1, le=MAX_BROWSE_LIMIT)


class ForceQuery(Strict):
    """Query of ``DELETE /v1/topics/{topic}``."""

    force: QueryBool = False


class PublishQuery(Strict):
    """Query of ``POST /v1/topics/{topic}/messages``: ``async=true`` answers 202 at once."""

    model_config = ConfigDict(populate_by_name=True)

    async_: QueryBool = Field(False, alias="async")


class ListSubscriptionsQuery(Strict):
    """Query of ``GET /v1/subscriptions``: only the subscriptions of ``topic``."""

    topic: str | None = None
