"""The OpenAPI 3.1 document, built from the route table and the schema types."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

import msgspec
from msgspec import Struct

from pubsubgo.adapters.wire.api import Operation
from pubsubgo.adapters.wire.codec import schema_hook
from pubsubgo.core.names import NAME_PATTERN

from .fields import MESSAGE_ID_REGEX
from .requests import SCHEMA_RULES
from .responses import ErrorDetail, ErrorResponse

Refs = Mapping[type[Struct], dict[str, Any]]
_REF_TEMPLATE = "#/components/schemas/{name}"
_JSON = "application/json"
_EVENT_STREAM = "text/event-stream"
#: The name of the bearer-token security scheme.
SECURITY_SCHEME = "bearer"
_BEARER = {
    "type": "http",
    "scheme": "bearer",
    "description": "A token of auth.tokens (needed only when auth.enabled). Each token holds "
    "publish, subscribe or admin permissions on topic and subscription name patterns.",
}
#: The schema of path parameters that name a topic or subscription (DESIGN §2).
_NAME_SCHEMA = {"type": "string", "pattern": f"^{NAME_PATTERN.pattern}$", "maxLength": 249}
_NAME_PARAMETERS = {"topic", "sub"}


def openapi_document(
    operations: Iterable[Operation],
    *,
    title: str,
    version: str,
    description: str = "",
    message_ids: str = MESSAGE_ID_REGEX,
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``operations``.

    Every error status answers with the ``ErrorResponse`` shape. ``message_ids`` is the
    pattern of the ids the storage backend issues: a query parameter that takes a message id
    (browse's ``after``) states it, since an id of another form names no position.
    """
    operations = list(operations)
    types = _types(operations)
    schemas, components = msgspec.json.schema_components(
        types, schema_hook=schema_hook, ref_template=_REF_TEMPLATE
    )
    refs = dict(zip(types, schemas, strict=True))
    for struct, rules in SCHEMA_RULES.items():
        if struct.__name__ in components:
            components[struct.__name__].update(rules)
    # Error details carry more fields by kind (position, limit, ...): open to them.
    components["ErrorDetail"]["additionalProperties"] = True
    paths: dict[str, dict[str, Any]] = {}
    for operation in operations:
        item = paths.setdefault(operation.path, {})
        item[operation.method.lower()] = spec = _operation(operation, refs, message_ids)
        links = _links(operation, operations)
        if links:
            spec["responses"][str(min(operation.responses))]["links"] = links
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version, "description": description},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {SECURITY_SCHEME: _BEARER},
        },
    }


def _types(operations: list[Operation]) -> list[type[Struct]]:
    wanted: dict[type[Struct], None] = {ErrorResponse: None, ErrorDetail: None}
    for operation in operations:
        if operation.body is not None:
            wanted[operation.body] = None
        for body in operation.responses.values():
            if body is not None:
                wanted[body] = None
    return list(wanted)


def _operation(operation: Operation, refs: Refs, message_ids: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "operationId": operation.handler.__name__,
        "summary": operation.summary,
        "tags": [operation.tag],
        "parameters": _parameters(operation, message_ids),
        "responses": _responses(operation, refs),
        "security": [] if operation.access.public else [{SECURITY_SCHEME: []}],
        "x-pubsub-permission": operation.access.summary,
    }
    if operation.description:
        spec["description"] = operation.description
    if operation.body is not None:
        spec["requestBody"] = {
            "required": operation.body_required,
            "content": {_JSON: {"schema": refs[operation.body]}},
        }
    return spec


def _links(producer: Operation, operations: list[Operation]) -> dict[str, Any]:
    """OpenAPI links from ``producer``'s success answer to every operation whose path
    parameters it supplies (what it ``produces``, the rest from its own path), and to the
    operations whose bodies it ``feeds``: the call sequences a stateful client follows."""
    known = {
        **{name: f"$request.path.{name}" for name in producer.path_parameters},
        **producer.produces,
    }
    links: dict[str, Any] = {}
    for consumer in operations:
        name = consumer.handler.__name__
        wanted = consumer.path_parameters
        fed = name in producer.feeds
        supplied = wanted and set(wanted) <= set(known) and set(wanted) & set(producer.produces)
        if consumer is producer or consumer.lasting or not (supplied or fed):
            continue
        if fed and not set(wanted) <= set(known):
            continue
        link: dict[str, Any] = {
            "operationId": name,
            "parameters": {p: known[p] for p in wanted},
        }
        if fed:
            link["requestBody"] = producer.feeds[name]
        links[name] = link
    return links


def _parameters(operation: Operation, message_ids: str) -> list[dict[str, Any]]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": _path_schema(name)}
        for name in operation.path_parameters
    ]
    if operation.query is not None:
        _, components = msgspec.json.schema_components([operation.query], schema_hook=schema_hook)
        schema = components[operation.query.__name__]
        required = set(schema.get("required", ()))
        for name, field in schema["properties"].items():
            field = _without_null(field)
            if field.get("pattern") == MESSAGE_ID_REGEX:
                field = {**field, "pattern": message_ids}
            parameters.append(
                {
                    "name": name,
                    "in": "query",
                    "required": name in required,
                    "schema": field,
                }
            )
    return parameters


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without the ``null`` branch of an optional field: a query
    string cannot carry null, only leave the parameter out."""
    branches = [b for b in schema.get("anyOf", ()) if b != {"type": "null"}]
    if "anyOf" not in schema or len(branches) != 1:
        return schema
    rest = {k: v for k, v in schema.items() if k != "anyOf" and not (k == "default" and v is None)}
    return {**rest, **branches[0]}


def _responses(operation: Operation, refs: Refs) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    for status, model in operation.responses.items():
        answer: dict[str, Any] = {"description": HTTPStatus(status).phrase}
        if model is not None:
            answer["content"] = {_JSON: {"schema": refs[model]}}
        elif operation.stream and status == 200:
            answer["content"] = {_EVENT_STREAM: {"schema": {"type": "string"}}}
        responses[str(status)] = answer
    error_schema = refs[ErrorResponse]
    for status in operation.errors:
        answer = {
            "description": HTTPStatus(status).phrase,
            "content": {_JSON: {"schema": error_schema}},
        }
        if status in (429, 503):
            answer["headers"] = {
                "Retry-After": {"description": "seconds", "schema": {"type": "integer"}}
            }
        if status == 401:
            answer["headers"] = {
                "WWW-Authenticate": {
                    "description": "the Bearer challenge (RFC 6750)",
                    "required": True,
                    "schema": {"type": "string"},
                }
            }
        responses[str(status)] = answer
    return responses


def _path_schema(name: str) -> dict[str, Any]:
    return dict(_NAME_SCHEMA) if name in _NAME_PARAMETERS else {"type": "string"}
