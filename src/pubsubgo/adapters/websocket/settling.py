"""AckSettler: a run of a socket's ack frames, settled together and answered one by one."""

from __future__ import annotations

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pubsubgo.adapters.websocket.protocol import (
    FrameSender,
    SocketClosed,
    domain_error_frame,
    error_frame,
)
from pubsubgo.adapters.websocket.stream import SubscriptionStream
from pubsubgo.adapters.wire.schemas.frames import AckFrame
from pubsubgo.core.errors import PubSubError
from pubsubgo.core.messages import AckId
from pubsubgo.services.acknowledgment import AckService

logger = logging.getLogger(__name__)


def owners(
    ack_ids: Iterable[str], subscription: str | None, streams: Mapping[str, SubscriptionStream]
) -> dict[str | None, list[AckId]]:
    """Ack ids grouped by the subscription that delivered them on this socket (None: unknown
    here), unless the frame names the subscription itself."""
    if subscription is not None:
        return {subscription: [AckId(a) for a in ack_ids]}
    grouped: defaultdict[str | None, list[AckId]] = defaultdict(list)
    for ack_id in ack_ids:
        owner = next((s.name for s in streams.values() if ack_id in s.outstanding), None)
        grouped[owner].append(AckId(ack_id))
    return grouped


class AckSettler:
    """Settles a run of a socket's ack frames with one call per subscription, and answers
    each frame as if it had been settled alone (``acked`` with its count and unknown ids,
    or ``error``), in order; frees room under ``max_in_flight`` once the settle is done.

    Args:
        acks: the service that settles.
        sender: where the answers go.
        streams: the socket's streams by subscription (the session's own dict, kept
            current by it).
    """

    def __init__(
        self, acks: AckService, sender: FrameSender, streams: Mapping[str, SubscriptionStream]
    ) -> None:
        self._acks = acks
        self._sender = sender
        self._streams = streams

    async def settle(self, frames: Sequence[AckFrame]) -> None:
        """Settle ``frames`` (at most MAX_ACK_IDS ids in all), then answer each frame."""
        parts = [owners(f.ack_ids, f.subscription, self._streams) for f in frames]
        calls, repeats = _merged(parts)
        outcomes: dict[str, set[AckId] | Exception] = {}
        for subscription, ack_ids in calls.items():
            try:
                result = await self._acks.ack(subscription, ack_ids)
            except Exception as error:
                outcomes[subscription] = error
                if not isinstance(error, PubSubError):
                    logger.error("acking on a WebSocket failed", exc_info=error)
                continue
            outcomes[subscription] = set(result.unknown)
            stream = self._streams.get(subscription)
            if stream is not None:
                stream.settled(ack_ids)
        for frame, part, repeated in zip(frames, parts, repeats, strict=True):
            await self._answer(frame, part, repeated, outcomes)

    async def _answer(
        self,
        frame: AckFrame,
        part: dict[str | None, list[AckId]],
        repeated: set[int],
        outcomes: Mapping[str, set[AckId] | Exception],
    ) -> None:
        """Answer ``frame`` as if it had been settled alone: ``repeated`` holds the
        positions (in ``part``'s order) of ids an earlier ack of the batch settled."""
        count, unknown, position = 0, [], 0
        for subscription, ack_ids in part.items():
            outcome = None if subscription is None else outcomes[subscription]
            if isinstance(outcome, Exception):
                await self._reply(_error_frame(outcome, frame))
                return
            for ack_id in ack_ids:
                if outcome is None or position in repeated or ack_id in outcome:
                    unknown.append(ack_id)
                else:
                    count += 1
                position += 1
        if frame.request_id is not None:
            reply = {"type": "acked", "acked": count, "unknown": unknown}
            await self._reply(reply | {"request_id": frame.request_id})

    async def _reply(self, frame: dict[str, Any]) -> None:
        # The acks were applied; a socket that closed meanwhile only misses the answer.
        with contextlib.suppress(SocketClosed):
            await self._sender.send(frame)


def _merged(
    parts: Sequence[dict[str | None, list[AckId]]],
) -> tuple[dict[str, list[AckId]], list[set[int]]]:
    """The ack ids of all ``parts`` by subscription, each id once, and for each part the
    positions of its repeats.

    A repeated id (in the same frame or a later one) is not sent again: the first ack
    settled it, so the repeat is unknown, as it is when the frames are settled one by one.
    """
    calls: dict[str, list[AckId]] = {}
    seen: dict[str, set[AckId]] = {}
    repeats: list[set[int]] = []
    for part in parts:
        repeated: set[int] = set()
        position = 0
        for subscription, ack_ids in part.items():
            if subscription is None:
                position += len(ack_ids)
                continue
            known = seen.setdefault(subscription, set())
            fresh = calls.setdefault(subscription, [])
            for ack_id in ack_ids:
                if ack_id in known:
                    repeated.add(position)
                else:
                    known.add(ack_id)
                    fresh.append(ack_id)
                position += 1
        repeats.append(repeated)
    return calls, repeats


def _error_frame(error: Exception, frame: AckFrame) -> dict[str, Any]:
    if isinstance(error, PubSubError):
        return domain_error_frame(error, frame.request_id)
    return error_frame("internal", "internal error", frame.request_id)
