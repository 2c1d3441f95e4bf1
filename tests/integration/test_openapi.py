"""The OpenAPI document: valid OpenAPI 3.1, complete, and true to the real responses."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from aiohttp import ClientResponse
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate

from pubsubgo.adapters.console import routes as console
from tests.integration.conftest import Client, create_subscription, create_topic, publish

Document = dict[str, Any]


@pytest.fixture
async def document(client: Client) -> Document:
    response = await client.get("/v1/openapi.json")
    assert response.status == 200
    body: Document = await response.json()
    return body


async def conforms(document: Document, method: str, path: str, response: ClientResponse) -> None:
    """Assert that ``response`` is one the document declares for ``method path``."""
    operation = document["paths"][path][method.lower()]
    declared = operation["responses"].get(str(response.status))
    assert declared is not None, f"{method} {path} answered an undeclared {response.status}"
    if "content" not in declared:
        assert await response.read() == b""
        return
    schema = declared["content"]["application/json"]["schema"]
    validator = OAS31Validator({**schema, "components": document["components"]})
    validator.validate(await response.json())


class TestDocument:
    async def test_it_is_a_valid_openapi_3_1_document(self, document: Document) -> None:
        assert document["openapi"] == "3.1.0"
        validate(document)

    async def test_it_lists_every_registered_route_and_nothing_else(
        self, client: Client, document: Document
    ) -> None:
        registered = {
            (route.method.lower(), route.resource.canonical)
            for route in client.app.router.routes()
            if route.resource is not None
        }
        documented = {(method, path) for path, item in document["paths"].items() for method in item}
        # The console's files are served beside the API and left out of its document.
        console_files = {(op.method.lower(), op.path) for op in console.routes}
        assert registered - console_files == documented

    async def test_every_operation_declares_its_errors_with_the_error_shape(
        self, document: Document
    ) -> None:
        error_ref = {"$ref": "#/components/schemas/ErrorResponse"}
        for path, item in document["paths"].items():
            for method, operation in item.items():
                for status, answer in operation["responses"].items():
                    if int(status) >= 400:
                        schema = answer["content"]["application/json"]["schema"]
                        assert schema == error_ref, f"{method} {path} {status}"


class TestResponsesConform:
    async def test_topic_routes(self, client: Client, document: Document) -> None:
        name = await create_topic(client)
        [id_] = await publish(client, name, "x", attributes={"k": "v"}, ttl_seconds=60)
        await conforms(document, "GET", "/v1/topics", await client.get("/v1/topics"))
        for path, template in [
            (f"/v1/topics/{name}", "/v1/topics/{topic}"),
            (f"/v1/topics/{name}/stats", "/v1/topics/{topic}/stats"),
            (f"/v1/topics/{name}/messages", "/v1/topics/{topic}/messages"),
            (f"/v1/topics/{name}/messages/{id_}", "/v1/topics/{topic}/messages/{id}"),
            ("/v1/topics/missing", "/v1/topics/{topic}"),
        ]:
            await conforms(document, "GET", template, await client.get(path))
        created = await client.post("/v1/topics", json={"name": "conform-topic"})
        await conforms(document, "POST", "/v1/topics", created)
        conflict = await client.post("/v1/topics", json={"name": "conform-topic"})
        await conforms(document, "POST", "/v1/topics", conflict)
        deleted = await client.delete("/v1/topics/conform-topic")
        await conforms(document, "DELETE", "/v1/topics/{topic}", deleted)

    async def test_publish_routes(self, client: Client, document: Document) -> None:
        name = await create_topic(client)
        path = "/v1/topics/{topic}/messages"
        body = {"messages": [{"data": "a"}]}
        for url in [f"/v1/topics/{name}/messages", f"/v1/topics/{name}/messages?async=true"]:
            await conforms(document, "POST", path, await client.post(url, json=body))
        bad = await client.post(f"/v1/topics/{name}/messages", json={"messages": [{"x": 1}]})
        await conforms(document, "POST", path, bad)
        payload = base64.b64encode(b"p").decode()
        one = await client.post(f"/v1/publish/{name}", json={"payload": payload})
        await conforms(document, "POST", "/v1/publish/{topic}", one)
        batch = await client.post(
            f"/v1/publish/{name}/batch", json={"messages": [{"payload": payload}, {"payload": 1}]}
        )
        await conforms(document, "POST", "/v1/publish/{topic}/batch", batch)

    async def test_subscription_routes(self, client: Client, document: Document) -> None:
        topic = await create_topic(client)
        sub = await create_subscription(client, topic)
        await publish(client, topic, "a", "b")
        base = "/v1/subscriptions/{sub}"
        await conforms(document, "GET", "/v1/subscriptions", await client.get("/v1/subscriptions"))
        pulled = await client.post(f"/v1/subscriptions/{sub}/pull", json={"max_messages": 2})
        ack_ids = [m["ack_id"] for m in (await pulled.json())["messages"]]
        await conforms(document, "POST", f"{base}/pull", pulled)
        joined = await client.post(f"/v1/subscriptions/{sub}/members")
        member = (await joined.json())["member_id"]
        await conforms(document, "POST", f"{base}/members", joined)
        await conforms(document, "GET", base, await client.get(f"/v1/subscriptions/{sub}"))
        for action, extra in [("extend", {"seconds": 10}), ("nack", {}), ("ack", {})]:
            answer = await client.post(
                f"/v1/subscriptions/{sub}/{action}", json={"ack_ids": ack_ids, **extra}
            )
            await conforms(document, "POST", f"{base}/{action}", answer)
        beat = await client.post(f"/v1/subscriptions/{sub}/members/{member}/heartbeat")
        await conforms(document, "POST", f"{base}/members/{{member}}/heartbeat", beat)
        left = await client.delete(f"/v1/subscriptions/{sub}/members/{member}")
        await conforms(document, "DELETE", f"{base}/members/{{member}}", left)
        sought = await client.post(f"/v1/subscriptions/{sub}/seek", json={"position": "latest"})
        await conforms(document, "POST", f"{base}/seek", sought)
        redriven = await client.post(f"/v1/subscriptions/{sub}/redrive")
        await conforms(document, "POST", f"{base}/redrive", redriven)
        await conforms(document, "DELETE", base, await client.delete(f"/v1/subscriptions/{sub}"))
        await conforms(document, "GET", base, await client.get(f"/v1/subscriptions/{sub}"))

    async def test_system_routes(self, client: Client, document: Document) -> None:
        for path in ["/healthz", "/readyz", "/v1/openapi.json"]:
            await conforms(document, "GET", path, await client.get(path))
