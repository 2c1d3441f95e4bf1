"""Bodies of the dead-letter routes: which dead letters to redrive or purge, and how many
were purged."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta

from pubsubgo.services.subscriptions import REDRIVE_PAGE

from .fields import MESSAGE_ID_REGEX
from .requests import Strict
from .responses import Response

#: Message ids in the dead-letter topic, one page of a redrive at most.
DeadLetterIds = Annotated[
    list[Annotated[str, Meta(pattern=MESSAGE_ID_REGEX)]],
    Meta(min_length=1, max_length=REDRIVE_PAGE),
]


class DeadLetterSelection(Strict):
    """Body of ``redrive`` and ``dead-letters/purge``: without ``ids`` (or without a body)
    every dead letter of the subscription; with them only those (ids in the dead-letter
    topic; ids that are not the subscription's dead letters are left alone)."""

    ids: DeadLetterIds | None = None


class PurgeResponse(Response):
    """``dead-letters/purge``: how many dead letters were deleted."""

    purged: int
