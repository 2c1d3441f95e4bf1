"""SocketPolicy: the permissions, rate and subscription limit one socket's frames obey."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from pubsubgo.adapters.wire.access import check, principal_of
from pubsubgo.adapters.wire.guard import GUARD, rate_key
from pubsubgo.adapters.wire.keys import SETTINGS
from pubsubgo.adapters.wire.ratelimit import RateLimiter
from pubsubgo.adapters.wire.schemas.frames import ClientFrame, PublishFrame, SubscribeFrame
from pubsubgo.core.access import Principal
from pubsubgo.core.errors import RateLimited, TooManySubscriptions


@dataclass(frozen=True, slots=True)
class SocketPolicy:
    """What the frames of one socket are held to.

    Attributes:
        principal: who opened the socket (its token was checked at the upgrade).
        limiter: the caller's request rate, shared with its HTTP requests; None: no limit.
        rate_key: whose rate the frames spend.
        max_subscriptions: subscriptions the socket may hold at once; 0 = no limit.
    """

    principal: Principal
    limiter: RateLimiter | None = None
    rate_key: str = ""
    max_subscriptions: int = 0

    @classmethod
    def of(cls, request: web.Request) -> SocketPolicy:
        """The policy of the socket ``request`` upgrades to."""
        principal = principal_of(request)
        limits = request.app[SETTINGS].limits
        return cls(
            principal,
            request.app[GUARD].limiter,
            rate_key(request, principal),
            limits.max_subscriptions_per_socket,
        )

    def admit(self, frame: ClientFrame) -> None:
        """Check ``frame`` before it is served.

        Subscribing and publishing spend the caller's rate, as an HTTP request would;
        settling does not, since a consumer acks what it was sent and must not be made to
        hold messages past their deadline by its own rate.

        Raises:
            RateLimited: a subscribe or publish over the caller's rate.
            PermissionDenied: the token lacks the permission the frame takes.
        """
        if self.limiter is not None and isinstance(frame, SubscribeFrame | PublishFrame):
            wait = self.limiter.take(self.rate_key)
            if wait > 0:
                raise RateLimited(wait)
        check(self.principal, frame.needs())

    def room_for(self, held: int) -> None:
        """Check that a socket holding ``held`` subscriptions may subscribe to one more.

        Raises:
            TooManySubscriptions: it may not.
        """
        if self.max_subscriptions and held >= self.max_subscriptions:
            raise TooManySubscriptions(self.max_subscriptions)
