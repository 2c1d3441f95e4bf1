"""TokenStore: bearer tokens known by their SHA-256 digests only."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Iterable, Mapping

from aiohttp import web

from pubsubgo.auth_config import TokenSettings
from pubsubgo.core.access import Principal, token_digest
from pubsubgo.core.errors import Unauthenticated

#: The authentication scheme of the ``Authorization`` header (compared case-insensitively,
#: as RFC 7235 asks).
_SCHEME = "bearer"
#: Where browsers put the token of a WebSocket upgrade, on routes that allow it.
QUERY_PARAMETER = "access_token"
#: A browser may instead offer the token as a WebSocket subprotocol, which keeps it out of
#: URLs and access logs: this prefix and the token in unpadded base64url (a subprotocol is
#: an HTTP token, so no ``=``, ``+`` or ``/``), beside :data:`SUBPROTOCOL`.
SUBPROTOCOL_TOKEN_PREFIX = "pubsubgo.bearer."
#: The subprotocol the server selects when it is offered: a browser drops a connection whose
#: server selects none of the subprotocols it offered, and the token one is never echoed.
SUBPROTOCOL = "pubsubgo"


class TokenStore:
    """Finds the principal of a presented token.

    Only digests are kept. A presented token is hashed and compared with every digest in
    constant time (``hmac.compare_digest``), so neither the comparison nor an early exit
    tells an attacker how close a guess came.

    Args:
        principals: digest (``sha256:<hex>``) -> the principal it identifies.
    """

    def __init__(self, principals: Mapping[str, Principal]) -> None:
        self._entries = [(digest.encode(), principal) for digest, principal in principals.items()]

    @classmethod
    def of(cls, tokens: Iterable[TokenSettings]) -> TokenStore:
        """The store of the configured tokens (already hashed by the settings)."""
        return cls({token.token: token.principal() for token in tokens})

    def principal(self, token: str) -> Principal | None:
        """Who ``token`` identifies, or None when it is not one of the broker's."""
        presented = token_digest(token).encode()
        found: Principal | None = None
        for digest, principal in self._entries:
            if hmac.compare_digest(presented, digest):
                found = principal  # no break: every comparison runs, whatever matched
        return found

    def authenticate(self, request: web.Request, *, query_token: bool) -> Principal:
        """The principal of the request's bearer token.

        Args:
            request: the request; its ``Authorization: Bearer <token>`` header is read.
            query_token: the route is a WebSocket upgrade: also accept the token as a
                subprotocol or as ``?access_token=`` when there is no header.

        Raises:
            Unauthenticated: no token, a malformed header, or an unknown token.
        """
        token = presented_token(request, query_token=query_token)
        if token is None:
            raise Unauthenticated(invalid=False)
        principal = self.principal(token)
        if principal is None:
            raise Unauthenticated(invalid=True)
        return principal


def presented_token(request: web.Request, *, query_token: bool) -> str | None:
    """The token the request carries, or None.

    Raises:
        Unauthenticated: an ``Authorization`` header of another scheme, or an empty token.
    """
    header = request.headers.get("Authorization")
    if header is None:
        if not query_token:
            return None
        return subprotocol_token(request) or request.query.get(QUERY_PARAMETER)
    return bearer_token(header)


def bearer_token(header: str) -> str:
    """The token of an ``Authorization`` value (an HTTP header, or gRPC metadata).

    Raises:
        Unauthenticated: another scheme than ``Bearer``, or an empty token.
    """
    scheme, _, token = header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != _SCHEME or not token:
        raise Unauthenticated(invalid=True)
    return token


def subprotocol_token(request: web.Request) -> str | None:
    """The token offered as the ``pubsubgo.bearer.<base64url>`` subprotocol, or None.

    Raises:
        Unauthenticated: the subprotocol is there but does not decode to a UTF-8 token.
    """
    offered = ",".join(request.headers.getall("Sec-WebSocket-Protocol", ()))
    for protocol in offered.split(","):
        encoded = protocol.strip()
        if encoded.startswith(SUBPROTOCOL_TOKEN_PREFIX):
            return _decoded(encoded.removeprefix(SUBPROTOCOL_TOKEN_PREFIX))
    return None


def _decoded(encoded: str) -> str:
    padded = encoded + "=" * (-len(encoded) % 4)
    try:
        token = base64.urlsafe_b64decode(padded.encode("ascii")).decode()
    except (binascii.Error, UnicodeError, ValueError):
        raise Unauthenticated(invalid=True) from None
    if not token:
        raise Unauthenticated(invalid=True)
    return token
