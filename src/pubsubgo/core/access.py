"""Who may do what: actions on topic and subscription names, granted by name patterns.

A permission grants one action on every name its pattern matches (``fnmatch`` globs:
``*``, ``?``, ``[seq]``), topics and subscriptions alike. ``admin`` includes ``publish`` and
``subscribe``, as Pub/Sub's admin role includes the publisher and subscriber roles.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase


class Action(StrEnum):
    """What a token may do to the topics or subscriptions its patterns match."""

    #: Publish to a topic.
    PUBLISH = "publish"
    #: Consume a subscription (pull, ack, nack, extend, join its group, subscribe over a
    #: WebSocket), and browse or fetch a topic's messages.
    SUBSCRIBE = "subscribe"
    #: Create, delete, seek and redrive; includes publish and subscribe.
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Permission:
    """``action`` on every name ``pattern`` matches (case-sensitive, like the names)."""

    action: Action
    pattern: str

    def matches(self, name: str) -> bool:
        """True when ``pattern`` matches ``name``."""
        return fnmatchcase(name, self.pattern)

    def grants(self, action: Action, name: str) -> bool:
        """True when this permission allows ``action`` on ``name``."""
        return (self.action is action or self.action is Action.ADMIN) and self.matches(name)


@dataclass(frozen=True, slots=True)
class Principal:
    """The holder of a token: its name (for logs and rate limits) and its permissions."""

    name: str
    permissions: tuple[Permission, ...]

    def may(self, action: Action, name: str) -> bool:
        """True when some permission allows ``action`` on ``name``."""
        return any(p.grants(action, name) for p in self.permissions)

    def sees(self, name: str) -> bool:
        """True when some permission, whatever its action, matches ``name``: enough to list
        and describe the topic or subscription."""
        return any(p.matches(name) for p in self.permissions)

    def visible(self, names: Iterable[str]) -> list[str]:
        """The names of ``names`` this principal sees, in order."""
        return [name for name in names if self.sees(name)]


#: Who calls when authentication is off: allowed everything, as before auth existed.
ANONYMOUS = Principal("anonymous", (Permission(Action.ADMIN, "*"),))


#: How a hashed token is written: ``sha256:`` and the hex digest of its UTF-8 bytes.
DIGEST_PREFIX = "sha256:"


def token_digest(token: str) -> str:
    """``sha256:<hex>`` of ``token``: the only form in which the broker keeps a token."""
    return DIGEST_PREFIX + hashlib.sha256(token.encode()).hexdigest()
