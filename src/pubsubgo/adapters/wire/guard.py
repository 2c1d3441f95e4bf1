"""The guard middleware: who is calling, how often, whether they may, and for how long.

In order, for every route that is not public: refuse a WebSocket or event stream opened by
a browser page of another site (403, see :meth:`Guard.check_origin`), authenticate the
bearer token (401), spend one unit of the caller's rate (429), validate the topic or
subscription name in the path (400) and check the route's permission on it (403), then run
the handler within the request timeout (503 ``timeout``). Public routes (health, metrics,
the OpenAPI document) skip all of it, so that probes and scrapes are never refused or
throttled.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Handler

from pubsubgo.adapters.wire.access import PRINCIPAL, Access, check
from pubsubgo.adapters.wire.api import Operation
from pubsubgo.adapters.wire.errors import OriginNotAllowed
from pubsubgo.adapters.wire.ratelimit import RateLimiter
from pubsubgo.adapters.wire.tokens import TokenStore
from pubsubgo.core.access import ANONYMOUS, Principal
from pubsubgo.core.errors import PermissionDenied, RateLimited, RequestTimeout
from pubsubgo.core.names import validate_name
from pubsubgo.services.subscriber import MAX_PULL_WAIT_SECONDS

#: A request that matched no route answers 404 or 405 without asking for a token: the
#: route table is no secret (the OpenAPI document is public), and a client that got the
#: path or method wrong learns that rather than being asked for credentials.
UNMATCHED = Access.open()
#: What each name-carrying path parameter names, for the invalid-name message.
_NAMED = {"topic": "topic", "sub": "subscription"}


@dataclass(frozen=True, slots=True)
class Guard:
    """Everything the guard needs.

    Attributes:
        tokens: the known tokens; None when authentication is off (everyone is anonymous
            and allowed everything).
        limiter: the per-caller rate; None when there is no rate limit.
        timeout_seconds: the request timeout; 0 for none.
        operations: (method, route template) -> the operation, for its ``Access``.
        allowed_origins: the origins of other sites whose pages may open WebSockets and
            streams (``server.allowed_origins``; ``*`` allows every one).
    """

    tokens: TokenStore | None
    limiter: RateLimiter | None
    timeout_seconds: float
    operations: Mapping[tuple[str, str], Operation] = field(default_factory=dict)
    allowed_origins: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls,
        tokens: TokenStore | None,
        limiter: RateLimiter | None,
        timeout_seconds: float,
        operations: Iterable[Operation],
        allowed_origins: Iterable[str] = (),
    ) -> Guard:
        """A guard over ``operations``."""
        table = {(op.method, op.path): op for op in operations}
        return cls(tokens, limiter, timeout_seconds, table, frozenset(allowed_origins))

    def operation(self, request: web.Request) -> Operation | None:
        """The operation ``request`` matched; None for no route or a wrong method."""
        resource = request.match_info.route.resource
        if resource is None:
            return None
        return self.operations.get((request.method, resource.canonical))

    def check_origin(self, request: web.Request) -> None:
        """Refuse a WebSocket or stream that a browser opens from a page of another site.

        Browsers send ``Origin`` with every upgrade and EventSource and let any page open
        one, with the cookies (or a token in the URL) the user holds for the broker: without
        this check another site could read a user's messages (cross-site WebSocket
        hijacking). Clients that are not browsers send no ``Origin`` and pass; so do pages
        the broker itself serves (the console) and ``server.allowed_origins``.

        Raises:
            OriginNotAllowed: the origin is another site's and not allowed.
        """
        origin = request.headers.get("Origin")
        if origin is None or "*" in self.allowed_origins or origin in self.allowed_origins:
            return
        if urlsplit(origin).netloc.lower() != request.host.lower():
            raise OriginNotAllowed(origin)

    def identify(self, request: web.Request, access: Access) -> Principal:
        """The caller; anonymous when authentication is off.

        Raises:
            Unauthenticated: auth is on and the request has no valid token.
        """
        if self.tokens is None:
            return ANONYMOUS
        return self.tokens.authenticate(request, query_token=access.query_token)

    def charge(self, key: str) -> None:
        """Spend one request of ``key``'s rate.

        Raises:
            RateLimited: the rate is spent; says when to come back.
        """
        if self.limiter is not None and (wait := self.limiter.take(key)) > 0:
            raise RateLimited(wait)

    def budget(self, operation: Operation | None) -> float | None:
        """How long the request may take; None for no limit."""
        if not self.timeout_seconds or (operation is not None and operation.lasting):
            return None
        if operation is not None and operation.long_poll:
            return self.timeout_seconds + MAX_PULL_WAIT_SECONDS
        return self.timeout_seconds


GUARD = web.AppKey("guard", Guard)


def rate_key(request: web.Request, principal: Principal) -> str:
    """Whose rate a request spends: its token's, or its address's when auth is off."""
    if principal is ANONYMOUS:
        return f"address:{request.remote}"
    return f"token:{principal.name}"


@web.middleware
async def guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, rate-limit, authorize and time-limit the request (see the module)."""
    guard = request.app[GUARD]
    operation = guard.operation(request)
    access = operation.access if operation is not None else UNMATCHED
    if access.public:
        return await handler(request)
    if operation is not None and operation.lasting:
        guard.check_origin(request)
    principal = guard.identify(request, access)
    request[PRINCIPAL] = principal
    if guard.limiter is not None:  # the key alone costs a look at the peer's address
        guard.charge(rate_key(request, principal))
    if access.parameter is not None:
        _authorize_path(request, access, principal)
    budget = guard.budget(operation)
    if budget is None:
        return await handler(request)
    return await _within(budget, handler, request)


def _authorize_path(request: web.Request, access: Access, principal: Principal) -> None:
    """Check the name in the route's path parameter, then the permission on it.

    Raises:
        InvalidName: the parameter is not a valid topic or subscription name.
        PermissionDenied: the caller lacks the permission.
    """
    parameter = access.parameter or ""
    name = validate_name(request.match_info[parameter], _NAMED.get(parameter, parameter))
    if principal is ANONYMOUS:
        return  # authentication is off: allowed everything, so no pattern to match
    if access.action is not None:
        check(principal, [(access.action, name)])
    elif not principal.sees(name):
        raise PermissionDenied(None, name)


async def _within(seconds: float, handler: Handler, request: web.Request) -> web.StreamResponse:
    """The handler's answer, or RequestTimeout once ``seconds`` have passed.

    The handler is cancelled at the deadline, as a lost client would cancel it: the work
    may or may not have been done, which the 503 says.
    """
    deadline = asyncio.timeout(seconds)
    try:
        async with deadline:
            return await handler(request)
    except TimeoutError:
        if deadline.expired():
            raise RequestTimeout(seconds) from None
        raise
