"""Gate: who calls (the bearer token in the ``authorization`` metadata), how often, and
whether they may; the same tokens, rates and permissions as REST (docs/security.md)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from grpc import aio

from pubsubgo.adapters.wire.ratelimit import RateLimiter
from pubsubgo.adapters.wire.tokens import TokenStore, bearer_token
from pubsubgo.core.access import ANONYMOUS, Action, Principal
from pubsubgo.core.errors import PermissionDenied, RateLimited, Unauthenticated
from pubsubgo.core.names import validate_name

#: The metadata key of the bearer token (gRPC metadata keys are lower case).
AUTHORIZATION = "authorization"

#: One permission a call needs: an action on a topic or subscription name (None: any
#: permission on it, enough to describe it).
Need = tuple[Action | None, str]


@dataclass(frozen=True, slots=True)
class Gate:
    """Identifies and rate-limits callers.

    Attributes:
        tokens: the known tokens; None when authentication is off (everyone is anonymous
            and allowed everything).
        limiter: the per-caller rate shared with HTTP; None when there is none.
    """

    tokens: TokenStore | None = None
    limiter: RateLimiter | None = None

    def admit(self, context: aio.ServicerContext[object, object]) -> Principal:
        """The caller of this call, after spending one unit of its rate.

        Raises:
            Unauthenticated: auth is on and the call has no valid token.
            RateLimited: the caller's rate is spent.
        """
        principal = self.identify(context)
        if self.limiter is not None:
            wait = self.limiter.take(_rate_key(context, principal))
            if wait > 0:
                raise RateLimited(wait)
        return principal

    def identify(self, context: aio.ServicerContext[object, object]) -> Principal:
        """The caller; anonymous when authentication is off.

        Raises:
            Unauthenticated: no token, a malformed value, or an unknown token.
        """
        if self.tokens is None:
            return ANONYMOUS
        header = _metadata(context, AUTHORIZATION)
        if header is None:
            raise Unauthenticated(invalid=False)
        principal = self.tokens.principal(bearer_token(header))
        if principal is None:
            raise Unauthenticated(invalid=True)
        return principal


def require(principal: Principal, needs: Iterable[Need]) -> None:
    """Check each named topic or subscription, then the caller's permission on it.

    Raises:
        InvalidName: a name breaks the naming rule (checked first, as over HTTP).
        PermissionDenied: for the first permission the caller lacks.
    """
    for action, name in needs:
        validate_name(name, "topic or subscription")
        if principal is ANONYMOUS:
            continue  # authentication is off: allowed everything
        allowed = principal.sees(name) if action is None else principal.may(action, name)
        if not allowed:
            raise PermissionDenied(None if action is None else action.value, name)


def may_see(principal: Principal, name: str) -> bool:
    """True when the caller holds any permission on ``name`` (lists keep to those)."""
    return principal is ANONYMOUS or principal.sees(name)


def _metadata(context: aio.ServicerContext[object, object], key: str) -> str | None:
    for name, value in context.invocation_metadata() or ():
        if name == key:
            return value if isinstance(value, str) else value.decode(errors="replace")
    return None


def _rate_key(context: aio.ServicerContext[object, object], principal: Principal) -> str:
    """Whose rate a call spends: its token's, or its address's (without the port)."""
    if principal is not ANONYMOUS:
        return f"token:{principal.name}"
    peer = context.peer()  # "ipv4:127.0.0.1:5000", "ipv6:[::1]:5000", "unix:/path"
    return f"address:{peer.rpartition(':')[0] if peer.count(':') > 1 else peer}"
