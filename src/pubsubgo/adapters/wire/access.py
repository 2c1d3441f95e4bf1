"""What each route asks of the caller's token, and the checks handlers share.

Every operation of a ``RouteTable`` declares an ``Access``; the guard middleware applies it
before the handler runs. Names that only the body carries (creating a topic or a
subscription) are checked by the handler with :func:`require` once the body is parsed, and
list routes keep to what the caller can see with :func:`visible`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from pubsubgo.core.access import Action, Principal
from pubsubgo.core.errors import PermissionDenied

#: Who made the request: set by the guard middleware on every non-public route (the
#: anonymous principal, allowed everything, when authentication is off).
PRINCIPAL = web.RequestKey("principal", Principal)

#: One permission a request needs: an action on a topic or subscription name.
Need = tuple[Action, str]


@dataclass(frozen=True, slots=True)
class Access:
    """What a route asks of the caller.

    Attributes:
        public: no token needed, no rate limit, no timeout (health, metrics, the document).
        action: the permission needed on the name in ``parameter``; None with a
            ``parameter`` means any permission on that name (reads).
        parameter: the path parameter naming the topic or subscription, validated as a
            name before the check.
        query_token: the token may come as ``?access_token=`` or as a WebSocket
            subprotocol (WebSocket upgrades, since browsers cannot set headers on them).
        checks: what the handler checks beyond a valid token, for the document.
    """

    public: bool = False
    action: Action | None = None
    parameter: str | None = None
    query_token: bool = False
    checks: str = ""

    @classmethod
    def open(cls) -> Access:
        """Anyone, without a token."""
        return cls(public=True)

    @classmethod
    def token(cls, checks: str = "", *, query_token: bool = False) -> Access:
        """Any valid token; the handler checks what the body names (as ``checks`` says) or
        keeps its answer to what the token may see."""
        return cls(query_token=query_token, checks=checks)

    @classmethod
    def to(cls, action: Action, parameter: str) -> Access:
        """``action`` on the name in the path parameter ``parameter``."""
        return cls(action=action, parameter=parameter)

    @classmethod
    def read(cls, parameter: str) -> Access:
        """Any permission on the name in the path parameter ``parameter``."""
        return cls(parameter=parameter)

    @property
    def summary(self) -> str:
        """How the OpenAPI document describes the requirement."""
        if self.public:
            return "public"
        if self.parameter is None:
            return self.checks or "any valid token"
        what = self.action.value if self.action else "any permission"
        return f"{what} on {{{self.parameter}}}"


def principal_of(request: web.Request) -> Principal:
    """The caller, as the guard middleware identified it."""
    return request[PRINCIPAL]


def require(request: web.Request, needs: Iterable[Need]) -> None:
    """Check that the caller holds every permission in ``needs``.

    Raises:
        PermissionDenied: for the first one it lacks.
    """
    check(principal_of(request), needs)


def check(principal: Principal, needs: Iterable[Need]) -> None:
    """Check that ``principal`` holds every permission in ``needs``.

    Raises:
        PermissionDenied: for the first one it lacks.
    """
    for action, name in needs:
        if not principal.may(action, name):
            raise PermissionDenied(action.value, name)


def visible(request: web.Request, names: Iterable[str]) -> set[str]:
    """The names among ``names`` the caller holds some permission on."""
    return set(principal_of(request).visible(names))
