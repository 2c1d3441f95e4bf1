"""The model of ``GET /v1/whoami``: who the caller's token is and what it may do."""

from __future__ import annotations

from pydantic import BaseModel

from pubsubgo.core.access import Action, Principal


class PermissionView(BaseModel):
    """``action`` on every topic and subscription name ``pattern`` matches (an fnmatch
    glob: ``*``, ``?``, ``[seq]``, ``[!seq]``; ``admin`` includes the other two)."""

    action: Action
    pattern: str


class IdentityView(BaseModel):
    """The caller: its token's name and permissions; ``authentication`` is false when the
    broker asks for no token (everyone is ``anonymous``, allowed everything)."""

    name: str
    authentication: bool
    permissions: list[PermissionView]

    @classmethod
    def of(cls, principal: Principal, authentication: bool) -> IdentityView:
        """The view of ``principal``."""
        permissions = [
            PermissionView(action=p.action, pattern=p.pattern) for p in principal.permissions
        ]
        return cls(name=principal.name, authentication=authentication, permissions=permissions)
