"""The frames WebSocket clients send, validated like request bodies."""

from __future__ import annotations

from typing import Annotated, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from pubsubgo.core.access import Action
from pubsubgo.core.messages import PublishRequest
from pubsubgo.core.names import NAME_PATTERN
from pubsubgo.core.subscriptions import MAX_ACK_DEADLINE_SECONDS
from pubsubgo.services.acknowledgment import MAX_ACK_IDS

from .fields import Integer, Name
from .requests import MAX_IN_FLIGHT, MessageIn

#: Echoed in the answer, so bounded to what JSON encoders write: a 64-bit integer or a
#: string of up to 256 characters.
RequestId = Annotated[int, Field(ge=-(2**63), le=2**63 - 1)] | Annotated[str, Field(max_length=256)]
#: The bounds of :data:`RequestId`, for frames read without pydantic.
_MIN_INT_ID, _MAX_INT_ID, _MAX_STR_ID = -(2**63), 2**63 - 1, 256
_REQUEST_ID: TypeAdapter[RequestId] = TypeAdapter(RequestId)


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)

    request_id: RequestId | None = None

    def needs(self) -> list[tuple[Action, str]]:
        """The permissions the frame takes (none: it acts on what the socket holds)."""
        return []


class SubscribeFrame(_Frame):
    """Join the subscription's group on this socket and receive its messages."""

    type: Literal["subscribe"]
    subscription: Name
    #: At most this many unacked messages on this socket (default: the subscription's).
    max_in_flight: Integer | None = Field(None, ge=1, le=MAX_IN_FLIGHT)
    #: Send what one pull returned as one ``messages`` frame rather than a ``message``
    #: frame per message.
    batch: bool = False

    def needs(self) -> list[tuple[Action, str]]:
        return [(Action.SUBSCRIBE, self.subscription)]


class UnsubscribeFrame(_Frame):
    """Leave the group; unacked messages are redelivered to others at once."""

    type: Literal["unsubscribe"]
    subscription: str


class AckFrame(_Frame):
    """Acknowledge deliveries (of any subscription this socket holds, or of ``subscription``)."""

    type: Literal["ack"]
    ack_ids: list[str] = Field(min_length=1, max_length=MAX_ACK_IDS)
    subscription: Name | None = None

    def needs(self) -> list[tuple[Action, str]]:
        # Without a subscription only deliveries this socket received are settled, and
        # subscribing to their subscription was checked already.
        return [] if self.subscription is None else [(Action.SUBSCRIBE, self.subscription)]


class NackFrame(AckFrame):
    """Give deliveries back; redelivered after ``delay_seconds`` or the retry backoff."""

    type: Literal["nack"]  # type: ignore[assignment]
    delay_seconds: float | None = Field(None, ge=0, le=MAX_ACK_DEADLINE_SECONDS)


class ExtendFrame(AckFrame):
    """Push deadlines to ``seconds`` from now (default: the subscription's ack deadline)."""

    type: Literal["extend"]  # type: ignore[assignment]
    seconds: float | None = Field(None, ge=0, le=MAX_ACK_DEADLINE_SECONDS)


class PublishFrame(_Frame):
    """Publish messages; answered with ``published`` (or ``error``) carrying ``request_id``."""

    type: Literal["publish"]
    topic: Name
    messages: list[MessageIn] = Field(min_length=1)

    def needs(self) -> list[tuple[Action, str]]:
        return [(Action.PUBLISH, self.topic)]


ClientFrame = Annotated[
    SubscribeFrame | UnsubscribeFrame | AckFrame | NackFrame | ExtendFrame | PublishFrame,
    Field(discriminator="type"),
]
_CLIENT_FRAME: TypeAdapter[ClientFrame] = TypeAdapter(ClientFrame)


#: The keys a publish frame read by :func:`parse_plain_publish` may have.
_PLAIN_PUBLISH_KEYS = frozenset(("type", "topic", "messages", "request_id"))


class ProtocolError(Exception):
    """Raised when a client frame cannot be understood; answered with an ``error`` frame."""

    def __init__(self, code: str, message: str, request_id: RequestId | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


def parse_frame(text: str) -> ClientFrame:
    """The client frame in ``text``.

    Raises:
        ProtocolError: not JSON (``invalid_json``), no or an unknown ``type``
            (``unknown_type``), or missing, extra or mistyped fields (``invalid_frame``).
    """
    try:
        return _CLIENT_FRAME.validate_json(text)
    except ValidationError as error:
        raise _protocol_error(error, text) from None


def parse_plain_publish(text: str) -> tuple[PublishFrame, list[PublishRequest]] | None:
    """A publish frame whose messages are plain text (``{"data": "<str>"}`` each), read
    without a model per message; None for any other text, which :func:`parse_frame` reads.

    It accepts only what :func:`parse_frame` accepts and reads it the same way, so where the
    two parsers could differ (a value of another type, an id out of range, text that is not
    UTF-8) it answers None and the frame takes the validated path, errors worded as there.

    Returns:
        The frame, without its messages (for the policy's checks), and the messages as the
        publisher takes them.
    """
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if (
        type(parsed) is not dict
        or parsed.get("type") != "publish"
        or not parsed.keys() <= _PLAIN_PUBLISH_KEYS
    ):
        return None
    topic, messages = parsed.get("topic"), parsed.get("messages")
    request_id = parsed.get("request_id")
    if (
        type(topic) is not str
        or NAME_PATTERN.fullmatch(topic) is None
        or type(messages) is not list
        or not messages
        or not _plain_request_id(request_id)
    ):
        return None
    requests = []
    for message in messages:
        data = message.get("data") if type(message) is dict and len(message) == 1 else None
        if type(data) is not str:
            return None
        try:
            requests.append(PublishRequest(data.encode()))
        except UnicodeEncodeError:  # a lone surrogate: refused there with its own message
            return None
    frame = PublishFrame.model_construct(
        type="publish", topic=topic, messages=[], request_id=request_id
    )
    return frame, requests


def _plain_request_id(found: object) -> bool:
    """True when ``found`` is absent or a request id exactly as :data:`RequestId` takes it
    (strict: no booleans, no floats)."""
    if found is None:
        return True
    if type(found) is int:
        return _MIN_INT_ID <= found <= _MAX_INT_ID
    return type(found) is str and len(found) <= _MAX_STR_ID


def _protocol_error(error: ValidationError, text: str) -> ProtocolError:
    problem = error.errors(include_url=False)[0]
    kind = problem["type"]
    if kind in ("json_invalid", "json_type"):
        return ProtocolError("invalid_json", f"the frame is not JSON: {problem['msg']}")
    request_id = _request_id(text)
    if kind in ("union_tag_invalid", "union_tag_not_found", "model_attributes_type"):
        return ProtocolError(
            "unknown_type",
            "a frame is an object whose type is subscribe, unsubscribe, ack, nack, extend"
            " or publish",
            request_id,
        )
    where = ".".join(str(part) for part in problem["loc"][1:]) or "frame"
    return ProtocolError("invalid_frame", f"{where}: {problem['msg']}", request_id)


def _request_id(text: str) -> RequestId | None:
    """The ``request_id`` of a frame that failed validation, to answer it (None when it has
    none, or one that is not a valid request id)."""
    try:
        # pydantic's parser read this text; orjson may still refuse it (1e400 is infinity).
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    found = parsed.get("request_id") if isinstance(parsed, dict) else None
    if found is None or isinstance(found, bool):
        return None
    try:
        return _REQUEST_ID.validate_python(found, strict=True)
    except ValidationError:
        return None
