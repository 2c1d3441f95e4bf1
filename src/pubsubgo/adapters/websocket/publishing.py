"""FramePublisher: a run of a socket's publish frames to one topic, stored by one call."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any, NamedTuple

from pubsubgo.adapters.websocket.protocol import (
    FrameSender,
    SocketClosed,
    domain_error_frame,
    error_frame,
)
from pubsubgo.adapters.wire.schemas.frames import PublishFrame
from pubsubgo.core.access import Principal
from pubsubgo.core.errors import BackendError, PubSubError
from pubsubgo.core.messages import MessageId, PublishRequest
from pubsubgo.services.publisher import PublisherService

logger = logging.getLogger(__name__)

#: A merged run holds at most this many messages and bytes: within the default batch
#: limits, so that merging never makes a batch the publisher refuses for its size.
MAX_RUN_MESSAGES = 1000
MAX_RUN_BYTES = 1 << 20


class Publish(NamedTuple):
    """A publish frame read from the socket, with its messages ready for the publisher."""

    frame: PublishFrame
    requests: list[PublishRequest]

    @property
    def size(self) -> int:
        """Payload bytes."""
        return sum(len(r.data) for r in self.requests)


class FramePublisher:
    """Publishes runs of frames, answering each frame as if it had been published alone.

    A run's messages are stored by one publisher call, in frame order, so consecutive
    frames keep their order in the topic. When that call refuses the run for a rule a
    message breaks (a bad message, a full topic), nothing was stored, and each frame is
    published alone for its own answer; when storage fails, every frame of the run gets
    that error, as a frame alone would.

    Args:
        publisher: the service that stores.
        sender: where the answers go.
        creator: who opened the socket, for topics created by their first publish.
    """

    def __init__(
        self, publisher: PublisherService, sender: FrameSender, creator: Principal | None = None
    ) -> None:
        self._publisher = publisher
        self._sender = sender
        self._creator = creator

    async def publish(self, run: Sequence[Publish]) -> None:
        """Store ``run`` (frames of one topic, within MAX_RUN_MESSAGES and MAX_RUN_BYTES)
        and answer each frame."""
        if len(run) == 1:
            await self._alone(run[0])
            return
        requests = [r for p in run for r in p.requests]
        try:
            ids = await self._publisher.publish(run[0].frame.topic, requests, creator=self._creator)
        except BackendError as error:
            for publish in run:
                await self._reply(domain_error_frame(error, publish.frame.request_id))
            return
        except PubSubError:
            for publish in run:
                await self._alone(publish)
            return
        start = 0
        for publish in run:
            end = start + len(publish.requests)
            await self._reply(_published(ids[start:end], publish.frame))
            start = end

    async def _alone(self, publish: Publish) -> None:
        try:
            ids = await self._publisher.publish(
                publish.frame.topic, publish.requests, creator=self._creator
            )
        except PubSubError as error:
            await self._reply(domain_error_frame(error, publish.frame.request_id))
        except Exception:
            logger.exception("publishing a WebSocket frame failed")
            await self._reply(error_frame("internal", "internal error", publish.frame.request_id))
        else:
            await self._reply(_published(ids, publish.frame))

    async def _reply(self, frame: dict[str, Any]) -> None:
        # The messages were stored (or not) either way; a closed socket misses the answer.
        with contextlib.suppress(SocketClosed):
            await self._sender.send(frame)


def _published(ids: Sequence[MessageId], frame: PublishFrame) -> dict[str, Any]:
    reply: dict[str, Any] = {"type": "published", "ids": list(ids)}
    if frame.request_id is not None:
        reply["request_id"] = frame.request_id
    return reply
