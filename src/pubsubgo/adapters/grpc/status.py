"""Broker errors as gRPC statuses: the one place that maps an error's kind to a status code.

The answer carries the broker's error ``code`` twice: in the trailing metadata
``pubsubgo-error-code`` (any client can read it), and in the rich status
(``grpc-status-details-bin``): a ``google.rpc.ErrorInfo`` whose ``reason`` is the code and
whose ``metadata`` holds the error's details, plus a ``google.rpc.RetryInfo`` when waiting
may help.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NoReturn

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc import aio

from pubsubgo.core.errors import ErrorKind, PubSubError

#: The status of each kind of error.
STATUS_BY_KIND = {
    ErrorKind.INVALID: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorKind.NOT_FOUND: grpc.StatusCode.NOT_FOUND,
    ErrorKind.CONFLICT: grpc.StatusCode.ALREADY_EXISTS,
    # A message past its TTL: NOT_FOUND, told apart by its code (message_expired).
    ErrorKind.GONE: grpc.StatusCode.NOT_FOUND,
    # Too large is a property of the request, which retrying does not change.
    ErrorKind.TOO_LARGE: grpc.StatusCode.INVALID_ARGUMENT,
    ErrorKind.EXHAUSTED: grpc.StatusCode.RESOURCE_EXHAUSTED,
    ErrorKind.UNAVAILABLE: grpc.StatusCode.UNAVAILABLE,
    ErrorKind.UNAUTHENTICATED: grpc.StatusCode.UNAUTHENTICATED,
    ErrorKind.PERMISSION_DENIED: grpc.StatusCode.PERMISSION_DENIED,
}
#: Conflicts that are not a name taken: the state must change first, or the caller retries.
STATUS_BY_CODE = {
    "topic_in_use": grpc.StatusCode.FAILED_PRECONDITION,
    "generation_conflict": grpc.StatusCode.ABORTED,
}
#: The trailing metadata key of the broker's error code.
ERROR_CODE_KEY = "pubsubgo-error-code"
#: Where gRPC carries the rich status (grpcio-status reads it with ``from_call``).
DETAILS_KEY = "grpc-status-details-bin"
#: The ErrorInfo domain of the broker's errors.
DOMAIN = "pubsubgo"
#: Seconds a client should wait before retrying a refusal that says nothing itself.
RETRY_AFTER_SECONDS = 1.0
_RETRIED = frozenset({grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.UNAVAILABLE})


@dataclass(frozen=True, slots=True)
class Refusal:
    """A status to end a call with."""

    status: grpc.StatusCode
    code: str
    message: str
    trailers: tuple[tuple[str, str | bytes], ...]


def refusal_of(error: PubSubError) -> Refusal:
    """The status of ``error``, its details included."""
    status = STATUS_BY_CODE.get(error.code) or STATUS_BY_KIND[error.kind]
    details = {key: str(value) for key, value in error.details().items() if value is not None}
    retry = (error.retry_after() or RETRY_AFTER_SECONDS) if status in _RETRIED else None
    return refusal(status, error.code, error.message, details, retry)


def refusal(
    status: grpc.StatusCode,
    code: str,
    message: str,
    details: dict[str, str] | None = None,
    retry_after: float | None = None,
) -> Refusal:
    """A status with the broker's ``code`` and ``details`` in its trailers."""
    info = error_details_pb2.ErrorInfo(reason=code, domain=DOMAIN, metadata=details or {})
    packed = [_packed(info)]
    if retry_after is not None:
        seconds = math.ceil(retry_after)
        packed.append(_packed(error_details_pb2.RetryInfo(retry_delay=_duration(seconds))))
    rich = status_pb2.Status(code=status.value[0], message=message, details=packed)
    trailers = ((ERROR_CODE_KEY, code), (DETAILS_KEY, rich.SerializeToString()))
    return Refusal(status, code, message, trailers)


async def abort(context: aio.ServicerContext[object, object], refused: Refusal) -> NoReturn:
    """End the call with ``refused`` (raises, as ``context.abort`` does)."""
    await context.abort(refused.status, refused.message, refused.trailers)
    raise AssertionError("context.abort returned")  # it never does


def _packed(detail: error_details_pb2.ErrorInfo | error_details_pb2.RetryInfo) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(detail)
    return packed


def _duration(seconds: int) -> duration_pb2.Duration:
    return duration_pb2.Duration(seconds=seconds)


#: What a client sees of a failure that is the broker's fault.
INTERNAL = refusal(grpc.StatusCode.INTERNAL, "internal", "internal error; see the broker's log")
