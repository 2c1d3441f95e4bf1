"""The two middlewares: every failure as the JSON error shape, and CORS."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from pubsubgo.adapters.http.observability import ERROR_CODE
from pubsubgo.adapters.wire.errors import STATUS_BY_KIND, error_body
from pubsubgo.core.errors import PubSubError, Unauthenticated

logger = logging.getLogger(__name__)

#: Seconds a client should wait before retrying a 429 (topic full) or 503 (storage down):
#: short, since a consumer or a reconnect usually frees things within a second or two.
RETRY_AFTER_SECONDS = 1
#: The realm of the ``WWW-Authenticate`` challenge on a 401.
REALM = "pubsubgo"
#: The codes of aiohttp's own refusals (no route, wrong method, body over the limit).
_CODE_BY_STATUS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}
#: How long a browser may cache a CORS preflight answer.
CORS_MAX_AGE_SECONDS = 600
_CORS_METHODS = "GET, POST, PATCH, DELETE, OPTIONS"


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **details: Any
) -> web.Response:
    """The JSON error shape: ``{"error": {"code", "message", ...details}}``."""
    response = web.json_response(
        error_body(code, message, **details), status=status, headers=headers
    )
    response[ERROR_CODE] = code  # for the observability middleware's errors_total
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Map every exception a handler raises to the JSON error shape.

    Domain errors (bad input included) map by ``kind``; aiohttp's own refusals keep their
    status; anything else is a logged 500 without a traceback.
    """
    try:
        return await handler(request)
    except PubSubError as error:
        return _domain_error(error)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        code = _CODE_BY_STATUS.get(error.status, "http_error")
        headers = {k: v for k, v in error.headers.items() if k.lower() == "allow"}
        return error_response(error.status, code, error.text or error.reason, headers)
    except Exception:
        logger.exception("unhandled error in %s %s", request.method, request.path)
        return error_response(500, "internal", "internal error; see the broker's log")


def _domain_error(error: PubSubError) -> web.Response:
    status = STATUS_BY_KIND[error.kind]
    headers: dict[str, str] = {}
    if status in (429, 503):
        # Whole seconds, rounded up: Retry-After takes no fractions.
        headers["Retry-After"] = str(max(1, math.ceil(error.retry_after() or RETRY_AFTER_SECONDS)))
    if isinstance(error, Unauthenticated):
        headers["WWW-Authenticate"] = bearer_challenge(error)
    return error_response(status, error.code, error.message, headers, **error.details())


def bearer_challenge(error: Unauthenticated) -> str:
    """The RFC 6750 challenge: ``error="invalid_token"`` only when a token was given."""
    challenge = f'Bearer realm="{REALM}"'
    return f'{challenge}, error="invalid_token"' if error.invalid else challenge


def cors_middleware(allowed_origins: Sequence[str]) -> Middleware:
    """CORS for browsers on ``allowed_origins`` (``*`` allows every origin).

    Preflight requests are answered here; other responses get the allow-origin header.
    """
    allow_any = "*" in allowed_origins
    allowed = frozenset(allowed_origins)

    @web.middleware
    async def cors(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if origin is None or not (allow_any or origin in allowed):
            return await handler(request)
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response: web.StreamResponse = _preflight(request)
        else:
            response = await handler(request)
        if not response.prepared:  # a WebSocket has sent its headers already
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Vary"] = "Origin"
        return response

    return cors


def _preflight(request: web.Request) -> web.Response:
    requested = request.headers.get("Access-Control-Request-Headers", "Content-Type")
    return web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": _CORS_METHODS,
            "Access-Control-Allow-Headers": requested,
            "Access-Control-Max-Age": str(CORS_MAX_AGE_SECONDS),
        },
    )
