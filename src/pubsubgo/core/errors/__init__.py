"""The broker's error tree.

Every error carries a stable ``code`` (the ``error.code`` of the JSON error shape) and a
``kind`` that the edges map to a status (HTTP, CLI exit code)::

    PubSubError
    ├── InvalidArgument (ValueError)       kind=invalid
    │   ├── InvalidName
    │   ├── InvalidFilter
    │   ├── InvalidMessage
    │   └── InvalidSetting
    ├── TopicError
    │   ├── TopicNotFound                   kind=not_found
    │   ├── TopicAlreadyExists              kind=conflict
    │   ├── TopicInUse                      kind=conflict
    │   └── TopicFull                       kind=exhausted
    ├── SubscriptionError
    │   ├── SubscriptionNotFound            kind=not_found
    │   ├── SubscriptionAlreadyExists       kind=conflict
    │   └── SubscriptionBacklogFull         kind=exhausted
    ├── MessageError
    │   ├── MessageNotFound                 kind=not_found
    │   ├── MessageExpired                  kind=gone
    │   ├── MessageTooLarge                 kind=too_large
    │   └── TooManyMessages                 kind=too_large
    ├── GroupError
    │   ├── MemberNotFound                  kind=not_found
    │   └── GenerationConflict              kind=conflict
    ├── AccessError
    │   ├── Unauthenticated                 kind=unauthenticated
    │   └── PermissionDenied                kind=permission_denied
    ├── LimitError
    │   ├── RateLimited                     kind=exhausted
    │   ├── TooManySubscriptions            kind=exhausted
    │   ├── TooManyWebSockets               kind=unavailable
    │   └── RequestTimeout                  kind=unavailable
    └── BackendError
        └── BackendUnavailable              kind=unavailable

The classes live in submodules by responsibility (``base``, ``resources``, ``groups``,
``access``, ``backend``); import them from here.
"""

from __future__ import annotations

from pubsubgo.core.errors.access import (
    AccessError,
    LimitError,
    PermissionDenied,
    RateLimited,
    RequestTimeout,
    TooManySubscriptions,
    TooManyWebSockets,
    Unauthenticated,
)
from pubsubgo.core.errors.backend import (
    BackendError,
    BackendUnavailable,
)
from pubsubgo.core.errors.base import (
    ErrorKind,
    InvalidArgument,
    InvalidFilter,
    InvalidMessage,
    InvalidName,
    InvalidSetting,
    PubSubError,
)
from pubsubgo.core.errors.groups import (
    GenerationConflict,
    GroupError,
    MemberNotFound,
)
from pubsubgo.core.errors.resources import (
    MessageError,
    MessageExpired,
    MessageNotFound,
    MessageTooLarge,
    SubscriptionAlreadyExists,
    SubscriptionBacklogFull,
    SubscriptionError,
    SubscriptionNotFound,
    TooManyMessages,
    TopicAlreadyExists,
    TopicError,
    TopicFull,
    TopicInUse,
    TopicNotFound,
)

__all__ = [
    "ErrorKind",
    "PubSubError",
    "InvalidArgument",
    "InvalidName",
    "InvalidFilter",
    "InvalidMessage",
    "InvalidSetting",
    "TopicError",
    "TopicNotFound",
    "TopicAlreadyExists",
    "TopicInUse",
    "TopicFull",
    "SubscriptionError",
    "SubscriptionNotFound",
    "SubscriptionAlreadyExists",
    "SubscriptionBacklogFull",
    "MessageError",
    "MessageNotFound",
    "MessageExpired",
    "MessageTooLarge",
    "TooManyMessages",
    "GroupError",
    "MemberNotFound",
    "GenerationConflict",
    "AccessError",
    "Unauthenticated",
    "PermissionDenied",
    "LimitError",
    "RateLimited",
    "TooManySubscriptions",
    "TooManyWebSockets",
    "RequestTimeout",
    "BackendError",
    "BackendUnavailable",
]
