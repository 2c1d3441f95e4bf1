"""Storage failures."""

from __future__ import annotations

from pubsubgo.core.errors.base import ErrorKind, PubSubError


class BackendError(PubSubError):
    """Base of the storage failures."""

    kind = ErrorKind.UNAVAILABLE


class BackendUnavailable(BackendError):
    """Raised when storage cannot be reached or did not answer in time."""

    code = "storage_unavailable"
