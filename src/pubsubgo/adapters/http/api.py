"""RouteTable: the routes of the API with what the OpenAPI document says about them."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field

from aiohttp import web
from pydantic import BaseModel

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_PATH_PARAMETER = re.compile(r"{(\w+)}")


@dataclass(frozen=True, slots=True)
class Operation:
    """One method on one path.

    Attributes:
        responses: status -> the body's model, or None for an empty body.
        errors: the error statuses the route may answer, each with the JSON error shape.
        body_required: False when an empty body stands for ``{}``.
    """

    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    responses: Mapping[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    body_required: bool = True
    query: type[BaseModel] | None = None
    errors: tuple[int, ...] = ()
    description: str = ""

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
    """

    tag: str
    always: tuple[int, ...] = (503,)
    operations: list[Operation] = field(default_factory=list)

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        responses: Mapping[int, type[BaseModel] | None],
        body: type[BaseModel] | None = None,
        body_required: bool = True,
        query: type[BaseModel] | None = None,
        errors: tuple[int, ...] = (),
        description: str = "",
    ) -> Callable[[Handler], Handler]:
        """Declare ``handler`` as the operation ``method path``."""

        statuses = tuple(sorted({*errors, *self.always}))

        def register(handler: Handler) -> Handler:
            self.operations.append(
                Operation(
                    method, path, handler, summary, self.tag, responses,
                    body, body_required, query, statuses, description,
                )
            )  # fmt: skip
            return handler

        return register

    def __iter__(self) -> Iterator[Operation]:
        return iter(self.operations)


def add_routes(router: web.UrlDispatcher, tables: list[RouteTable]) -> None:
    """Register every operation of ``tables`` (no implicit HEAD routes)."""
    for table in tables:
        for operation in table:
            router.add_route(operation.method, operation.path, operation.handler)
