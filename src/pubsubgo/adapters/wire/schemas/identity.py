"""The body of ``GET /v1/whoami``: who the caller's token is and what it may do."""

from __future__ import annotations

from pubsubgo.core.access import Action, Principal

from .responses import Response


class PermissionView(Response):
    """``action`` on every topic and subscription name ``pattern`` matches (an fnmatch
    glob: ``*``, ``?``, ``[seq]``, ``[!seq]``; ``admin`` includes the other two)."""

    action: Action
    pattern: str


class IdentityView(Response):
    """The caller: its token's name and permissions; ``authentication`` is false when the
    broker asks for no token (everyone is ``anonymous``, allowed everything)."""

    name: str
    authentication: bool
    permissions: list[PermissionView]


def identity_view(principal: Principal, authentication: bool) -> IdentityView:
    """The view of ``principal``."""
    permissions = [
        PermissionView(action=p.action, pattern=p.pattern) for p in principal.permissions
    ]
    return IdentityView(name=principal.name, authentication=authentication, permissions=permissions)
