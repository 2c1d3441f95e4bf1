"""The OpenAPI document declares the bearer scheme and who may call each operation."""

from __future__ import annotations

from typing import Any

from tests.integration.conftest import Client

OPEN = {("get", "/healthz"), ("get", "/readyz"), ("get", "/v1/openapi.json")}


async def document(client: Client) -> dict[str, Any]:
    body: dict[str, Any] = await (await client.get("/v1/openapi.json")).json()
    return body


async def test_the_document_declares_the_bearer_scheme(client: Client) -> None:
    schemes = (await document(client))["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http"
    assert schemes["bearer"]["scheme"] == "bearer"


async def test_every_operation_but_health_and_the_document_needs_the_token(
    client: Client,
) -> None:
    for path, item in (await document(client))["paths"].items():
        for method, operation in item.items():
            if (method, path) in OPEN:
                assert operation["security"] == [], path
                assert "401" not in operation["responses"], path
            else:
                assert operation["security"] == [{"bearer": []}], path
                answer = operation["responses"]["401"]
                assert answer["headers"]["WWW-Authenticate"]["required"] is True
                assert "429" in operation["responses"], path


async def test_each_operation_says_which_permission_it_needs(client: Client) -> None:
    paths = (await document(client))["paths"]
    assert paths["/v1/topics/{topic}/messages"]["post"]["x-pubsub-permission"] == (
        "publish on {topic}"
    )
    assert paths["/v1/subscriptions/{sub}/seek"]["post"]["x-pubsub-permission"] == "admin on {sub}"
    assert paths["/v1/topics/{topic}"]["get"]["x-pubsub-permission"] == "any permission on {topic}"
    assert paths["/v1/topics"]["get"]["x-pubsub-permission"].startswith("any valid token")
    assert paths["/healthz"]["get"]["x-pubsub-permission"] == "public"


async def test_names_in_paths_carry_the_naming_rule(client: Client) -> None:
    parameters = (await document(client))["paths"]["/v1/subscriptions/{sub}/pull"]["post"]
    [sub] = parameters["parameters"]
    assert sub["schema"]["pattern"] == "^[A-Za-z0-9][A-Za-z0-9._-]{0,248}$"
    assert "400" in parameters["responses"]
