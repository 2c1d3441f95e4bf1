"""REST: malformed requests are 400s in the error shape, unknown routes are JSON, CORS, health."""

from __future__ import annotations

from dataclasses import replace

import pytest
from dependency_injector import providers
from pytest_aiohttp import AiohttpClient

from pubsubgo.containers import Container, api_app
from pubsubgo.core.errors import BackendUnavailable
from pubsubgo.ports.storage import Storage
from tests.integration.conftest import Client

JSON = {"Content-Type": "application/json"}


class TestMalformedRequests:
    @pytest.mark.parametrize(
        "body",
        [b"{", b"[1, 2]", b"null", b'"text"', b"\xff\xfe", b'{"name": "a",}'],
        ids=["truncated", "array", "null", "string", "not-utf8", "trailing-comma"],
    )
    async def test_a_body_that_is_not_a_json_object_is_a_400(
        self, client: Client, body: bytes
    ) -> None:
        response = await client.post("/v1/topics", data=body, headers=JSON)
        assert response.status == 400
        error = (await response.json())["error"]
        assert error["code"] in {"invalid_json", "invalid_request"}
        assert error["message"]

    async def test_a_body_that_is_not_declared_json_is_a_400(self, client: Client) -> None:
        response = await client.post(
            "/v1/topics", data=b"name=x", headers={"Content-Type": "text/plain"}
        )
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "unsupported_content_type"

    async def test_unknown_fields_are_refused_by_name(self, client: Client) -> None:
        response = await client.post("/v1/topics", json={"name": "t-unknown", "partition": 2})
        assert response.status == 400
        error = (await response.json())["error"]
        assert error["field"] == "partition"
        assert error["code"] == "invalid_request"

    async def test_wrong_types_are_refused_without_coercion(self, client: Client) -> None:
        response = await client.post("/v1/topics", json={"name": "t-types", "partitions": "2"})
        assert response.status == 400
        assert (await response.json())["error"]["field"] == "partitions"

    async def test_a_missing_required_field_is_a_400(self, client: Client) -> None:
        response = await client.post("/v1/subscriptions", json={"name": "s"})
        assert response.status == 400
        assert (await response.json())["error"]["field"] == "topic"

    async def test_an_unknown_route_is_a_json_404(self, client: Client) -> None:
        response = await client.get("/v1/nothing")
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"

    async def test_a_wrong_method_is_a_json_405_with_allow(self, client: Client) -> None:
        response = await client.put("/v1/topics")
        assert response.status == 405
        assert "POST" in response.headers["Allow"]
        assert (await response.json())["error"]["code"] == "method_not_allowed"


class TestCors:
    async def test_a_preflight_from_an_allowed_origin_is_answered(self, client: Client) -> None:
        response = await client.options(
            "/v1/topics",
            headers={
                "Origin": "http://allowed.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Origin"] == "http://allowed.example"
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        assert response.headers["Access-Control-Allow-Headers"] == "content-type"

    async def test_responses_to_an_allowed_origin_carry_the_header(self, client: Client) -> None:
        response = await client.get("/v1/topics", headers={"Origin": "http://allowed.example"})
        assert response.headers["Access-Control-Allow-Origin"] == "http://allowed.example"
        # Errors too, so that a browser can read them.
        missing = await client.get("/v1/topics/x-y-z", headers={"Origin": "http://allowed.example"})
        assert missing.headers["Access-Control-Allow-Origin"] == "http://allowed.example"

    async def test_other_origins_get_no_cors_headers(self, client: Client) -> None:
        response = await client.get("/v1/topics", headers={"Origin": "http://evil.example"})
        assert "Access-Control-Allow-Origin" not in response.headers


class TestHealth:
    async def test_liveness_and_readiness_answer_ok(self, client: Client) -> None:
        live = await client.get("/healthz")
        ready = await client.get("/readyz")
        assert (live.status, await live.json()) == (200, {"status": "ok"})
        assert (ready.status, await ready.json()) == (200, {"status": "ready"})

    async def test_readiness_is_a_503_with_retry_after_when_storage_is_down(
        self, aiohttp_client: AiohttpClient, container: Container, storage: Storage
    ) -> None:
        # Given storage whose health check fails
        container.storage.override(providers.Object(replace(storage, connection=DownConnection())))
        client = await aiohttp_client(api_app(container))
        # When
        response = await client.get("/readyz")
        # Then
        assert response.status == 503
        assert response.headers["Retry-After"] == "1"
        assert (await response.json())["error"]["code"] == "storage_unavailable"
        assert (await client.get("/healthz")).status == 200


class DownConnection:
    """A StorageConnection whose storage never answers."""

    async def ping(self) -> None:
        raise BackendUnavailable("storage did not answer")

    async def aclose(self) -> None:
        return None
