"""RouteTable: the routes of the API with what the OpenAPI document says about them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from msgspec import Struct

from pubsubgo.adapters.wire.access import Access

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PATH_PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path.

    Attributes:
        access: what the route asks of the caller's token.
        responses: status -> the body's model, or None for an empty body.
        errors: the error statuses the route may answer, each with the JSON error shape.
        body_required: False when an empty body stands for ``{}``.
        long_poll: the route may wait up to ``MAX_PULL_WAIT_SECONDS`` on purpose, which the
            request timeout allows on top.
        websocket: the route upgrades to a WebSocket (no request timeout).
        stream: the answer is a stream that lasts as long as the client wants (Server-Sent
            Events): no request timeout, and like a WebSocket its ``Origin`` is checked.
        produces: path parameter -> where the success answer holds a value for it (an
            OpenAPI runtime expression, e.g. ``$response.body#/name``): the document links
            this operation to every one that takes those parameters.
        feeds: the links' request bodies, by operationId: what of this answer another
            operation's body takes (e.g. the ack ids a pull handed out).
    """

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    access: Access
    responses: Mapping[int, type[Struct] | None]
    body: type[Struct] | None = None
    body_required: bool = True
    query: type[Struct] | None = None
    errors: tuple[int, ...] = ()
    description: str = ""
    long_poll: bool = False
    websocket: bool = False
    stream: bool = False
    produces: Mapping[str, str] = field(default_factory=dict)
    feeds: Mapping[str, Any] = field(default_factory=dict)

    @property
    def lasting(self) -> bool:
        """A WebSocket or a stream: answered for as long as the client stays."""
        return self.websocket or self.stream

    @property
    def path_parameters(self) -> list[str]:
        """The ``{name}`` parts of the path, in order."""
        return _PATH_PARAMETER.findall(self.path)


@dataclass
class RouteTable:
    """Collects operations with a decorator, like aiohttp's RouteTableDef.

    Attributes:
        tag: the OpenAPI tag of the table's operations.
        always: error statuses every operation of the table may answer (by default 503,
            since every one of them reaches storage).
        documented: the operations are part of the API's OpenAPI document (the console's
            files are served beside the API, not part of it).
    """

    tag: str
    always: tuple[int, ...] = (503,)
    documented: bool = True
    operations: list[Operation] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        access: Access,
        responses: Mapping[int, type[Struct] | None],
        body: type[Struct] | None = None,
        body_required: bool = True,
        query: type[Struct] | None = None,
        errors: tuple[int, ...] = (),
        description: str = "",
        long_poll: bool = False,
        websocket: bool = False,
        stream: bool = False,
        produces: Mapping[str, str] | None = None,
        feeds: Mapping[str, Any] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare ``handler`` as ``method path``; ``access`` has no default, so that no
        route is added without saying who may call it."""
        guarded = _guard_statuses(access, lasting=websocket or stream)
        statuses = tuple(sorted({*errors, *self.always, *guarded}))

        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(
                    method, path, handler, summary, self.tag, access, responses,
                    body, body_required, query, statuses, description, long_poll, websocket,
                    stream, produces or {}, feeds or {},
                )
            )  # fmt: skip
            return handler

        return register

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)


def _guard_statuses(access: Access, *, lasting: bool) -> tuple[int, ...]:
    """What the guard middleware may answer before the handler: 400 for an invalid name in
    the path, 401 without a valid token, 403 without the permission (or from a browser page
    of another origin, for a WebSocket or a stream), 429 over the rate, 503 past the request
    timeout (or, for a WebSocket, with every socket taken)."""
    if access.public:
        return ()
    refusals = (400, 401, 403) if access.parameter is not None else (401,)
    return (*refusals, *((403,) if lasting else ()), 429, 503)


def add_routes(router: web.UrlDispatcher, tables: Sequence[RouteTable]) -> None:
    """Register every operation of ``tables`` (no implicit HEAD routes)."""
    for table in tables:
        for operation in table:
            router.add_route(operation.method, operation.path, operation.handler)
