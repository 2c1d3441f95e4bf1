"""Models of the dead-letter routes: which dead letters to redrive or purge, and how many
were purged."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from pubsubgo.services.subscriptions import REDRIVE_PAGE

from .fields import MESSAGE_ID_REGEX
from .requests import Strict

#: A message id in the dead-letter topic.
DeadLetterId = Annotated[str, Field(pattern=MESSAGE_ID_REGEX)]


class DeadLetterSelection(Strict):
    """Body of ``redrive`` and ``dead-letters/purge``: without ``ids`` (or without a body)
    every dead letter of the subscription; with them only those (ids in the dead-letter
    topic; ids that are not the subscription's dead letters are left alone)."""

    ids: list[DeadLetterId] | None = Field(None, min_length=1, max_length=REDRIVE_PAGE)


class PurgeResponse(BaseModel):
    """``dead-letters/purge``: how many dead letters were deleted."""

    purged: int
