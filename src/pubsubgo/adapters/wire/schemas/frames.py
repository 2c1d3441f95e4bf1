"""WebSocket frames: what clients send (validated like request bodies) and the message
frames the server pushes (the pulled message's view with a ``type``)."""

from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from pubsubgo.adapters.wire.codec import InvalidJson, InvalidRequest, decode
from pubsubgo.core.access import Action
from pubsubgo.core.messages import Delivery

from .fields import InFlightLimit, Name, RequestId
from .messages import ReceivedMessage, received_message
from .requests import AckIds, DeadlineSeconds, MessageIn

#: What the ``type`` of a client frame may be, for the refusal of any other.
CLIENT_FRAME_TYPES = "subscribe, unsubscribe, ack, nack, extend or publish"


class ClientFrame(Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of the frames clients send; ``type`` says which."""

    request_id: RequestId | None = None

    def needs(self) -> list[tuple[Action, str]]:
        """The permissions the frame takes (none: it acts on what the socket holds)."""
        return []


class SubscribeFrame(ClientFrame, tag="subscribe"):
    """Join the subscription's group on this socket and receive its messages."""

    subscription: Name
    #: At most this many unacked messages on this socket (default: the subscription's).
    max_in_flight: InFlightLimit | None = None
    #: Send what one pull returned as one ``messages`` frame rather than a ``message``
    #: frame per message.
    batch: bool = False

    def needs(self) -> list[tuple[Action, str]]:
        return [(Action.SUBSCRIBE, self.subscription)]


class UnsubscribeFrame(ClientFrame, tag="unsubscribe"):
    """Leave the group; unacked messages are redelivered to others at once."""

    subscription: str


class AckFrame(ClientFrame, tag="ack"):
    """Acknowledge deliveries (of any subscription this socket holds, or of ``subscription``)."""

    ack_ids: AckIds
    subscription: Name | None = None

    def needs(self) -> list[tuple[Action, str]]:
        # Without a subscription only deliveries this socket received are settled, and
        # subscribing to their subscription was checked already.
        return [] if self.subscription is None else [(Action.SUBSCRIBE, self.subscription)]


class NackFrame(AckFrame, tag="nack"):
    """Give deliveries back; redelivered after ``delay_seconds`` or the retry backoff."""

    delay_seconds: DeadlineSeconds | None = None


class ExtendFrame(AckFrame, tag="extend"):
    """Push deadlines to ``seconds`` from now (default: the subscription's ack deadline)."""

    seconds: DeadlineSeconds | None = None


class PublishFrame(ClientFrame, tag="publish"):
    """Publish messages; answered with ``published`` (or ``error``) carrying ``request_id``."""

    topic: Name
    messages: Annotated[list[MessageIn], Meta(min_length=1)]

    def needs(self) -> list[tuple[Action, str]]:
        return [(Action.PUBLISH, self.topic)]


AnyClientFrame = (
    SubscribeFrame | UnsubscribeFrame | AckFrame | NackFrame | ExtendFrame | PublishFrame
)


class MessageFrame(ReceivedMessage, tag_field="type", tag="message", gc=False):
    """``message``: one pushed message, with the fields of a pulled one."""


class MessagesFrame(Struct, tag_field="type", tag="messages", kw_only=True):
    """``messages``: what one pull returned, for a socket that subscribed with ``batch``."""

    subscription: str
    messages: list[ReceivedMessage]


def message_frame(delivery: Delivery) -> MessageFrame:
    """The ``message`` frame of ``delivery``."""
    return received_message(delivery, MessageFrame)


def messages_frame(subscription: str, deliveries: list[Delivery]) -> MessagesFrame:
    """The ``messages`` frame of one pull's deliveries."""
    return MessagesFrame(
        subscription=subscription, messages=list(map(received_message, deliveries))
    )


class ProtocolError(Exception):
    """Raised when a client frame cannot be understood; answered with an ``error`` frame."""

    def __init__(self, code: str, message: str, request_id: RequestId | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


class _Identified(Struct):
    """Any object, for the ``request_id`` of a frame refused for something else."""

    request_id: RequestId | None = None


def parse_frame(text: str | bytes) -> AnyClientFrame:
    """The client frame in ``text``.

    Raises:
        ProtocolError: not JSON (``invalid_json``), no or an unknown ``type``
            (``unknown_type``), or missing, extra or mistyped fields (``invalid_frame``).
    """
    try:
        return decode(text, AnyClientFrame)  # type: ignore[arg-type]  # a union is a type
    except InvalidJson:
        raise ProtocolError("invalid_json", "the frame is not valid JSON") from None
    except InvalidRequest as error:
        request_id = _request_id(text)
        if error.field == "type":
            message = f"a frame is an object whose type is {CLIENT_FRAME_TYPES}"
            raise ProtocolError("unknown_type", message, request_id) from None
        raise ProtocolError("invalid_frame", error.message, request_id) from None


def _request_id(text: str | bytes) -> RequestId | None:
    """The ``request_id`` of a refused frame, to answer it (None when it has none, or one
    that is not a valid request id)."""
    try:
        return decode(text, _Identified).request_id
    except (InvalidJson, InvalidRequest):
        return None
