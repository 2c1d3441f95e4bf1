"""Bearer tokens over REST: 401 without a valid token, 403 without the permission, lists
kept to what a token may see, open routes left open."""

from __future__ import annotations

import itertools
import re

import pytest

from pubsubgo.client import Client as PubSubClient
from pubsubgo.client.errors import Forbidden, Unauthorized
from pubsubgo.config import Settings
from pubsubgo.containers import api_routes
from pubsubgo.core.access import token_digest
from tests.integration.conftest import Client
from tests.integration.security import (
    ADMIN,
    BILLING,
    CONSUMER,
    HASHED,
    PUBLISHER,
    as_admin,
    auth_settings,
    bearer,
    error_of,
    orders_world,
)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return auth_settings(settings)


def protected_routes() -> list[tuple[str, str]]:
    """Every route that needs a token, with its path parameters filled in."""
    values = {"topic": "orders", "sub": "orders-sub", "member": "m", "id": "0-0"}
    return [
        (op.method, re.sub(r"{(\w+)}", lambda m: values[m.group(1)], op.path))
        for op in itertools.chain.from_iterable(api_routes())
        if not op.access.public
    ]


class TestAuthentication:
    @pytest.mark.parametrize(("method", "path"), protected_routes())
    async def test_every_api_route_without_a_token_is_a_401_with_a_bearer_challenge(
        self, client: Client, method: str, path: str
    ) -> None:
        response = await client.request(method, path, json={})
        error = await error_of(response, 401)
        assert error["code"] == "unauthenticated"
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="pubsubgo"'

    @pytest.mark.parametrize(
        "header",
        [
            "Bearer not-a-known-token-at-all",
            f"Basic {ADMIN}",
            "Bearer",
            f"Bearer {token_digest(ADMIN)}",
        ],
    )
    async def test_an_unknown_token_or_another_scheme_is_a_401_invalid_token(
        self, client: Client, header: str
    ) -> None:
        response = await client.get("/v1/topics", headers={"Authorization": header})
        error = await error_of(response, 401)
        assert error["message"] == "the bearer token is not valid"
        assert response.headers["WWW-Authenticate"].endswith('error="invalid_token"')

    async def test_the_scheme_is_case_insensitive(self, client: Client) -> None:
        response = await client.get("/v1/topics", headers={"Authorization": f"bearer {ADMIN}"})
        assert response.status == 200

    async def test_a_token_configured_as_a_digest_authenticates_its_plaintext(
        self, client: Client
    ) -> None:
        assert (await client.get("/v1/topics", headers=bearer(HASHED))).status == 200

    @pytest.mark.parametrize("path", ["/healthz", "/readyz", "/v1/openapi.json"])
    async def test_health_and_the_document_stay_open(self, client: Client, path: str) -> None:
        assert (await client.get(path)).status == 200

    async def test_metrics_on_the_api_port_need_admin_on_every_name(self, client: Client) -> None:
        # The series name every topic and subscription (the metrics port stays open: it is
        # for Prometheus, behind the NetworkPolicy).
        assert (await error_of(await client.get("/metrics"), 401))["code"] == "unauthenticated"
        forbidden = await client.get("/metrics", headers=bearer(PUBLISHER))
        assert (await error_of(forbidden, 403))["code"] == "permission_denied"
        scraped = await client.get("/metrics", headers=bearer(ADMIN))
        assert scraped.status == 200
        assert "pubsubgo_http_requests_total" in await scraped.text()

    async def test_unknown_routes_and_methods_answer_without_asking_for_a_token(
        self, client: Client
    ) -> None:
        assert (await error_of(await client.get("/v1/nothing"), 404))["code"] == "not_found"
        assert (await client.put("/v1/topics")).status == 405

    async def test_the_token_may_not_come_in_the_query_of_a_rest_route(
        self, client: Client
    ) -> None:
        response = await client.get(f"/v1/topics?access_token={ADMIN}")
        assert response.status == 401


class TestPermissions:
    async def test_a_publisher_publishes_to_its_topics_and_nothing_else(
        self, client: Client
    ) -> None:
        # Given a topic the publisher's pattern matches and one it does not
        topic, _ = await orders_world(client)
        await as_admin(client, "POST", "/v1/topics", json={"name": "payroll-1"})
        body = {"messages": [{"data": "x"}]}
        # When
        allowed = await client.post(
            f"/v1/topics/{topic}/messages", json=body, headers=bearer(PUBLISHER)
        )
        refused = await client.post(
            "/v1/topics/payroll-1/messages", json=body, headers=bearer(PUBLISHER)
        )
        legacy = await client.post(
            "/v1/publish/payroll-1", json={"payload": "eA=="}, headers=bearer(PUBLISHER)
        )
        pulled = await client.post("/v1/subscriptions/orders-x/pull", headers=bearer(PUBLISHER))
        # Then
        assert allowed.status == 201
        error = await error_of(refused, 403)
        assert error == {
            "code": "permission_denied",
            "message": "the token has no 'publish' permission on 'payroll-1'",
            "action": "publish",
            "name": "payroll-1",
        }
        assert (await error_of(legacy, 403))["name"] == "payroll-1"
        assert (await error_of(pulled, 403))["action"] == "subscribe"

    async def test_a_consumer_pulls_and_acks_its_subscriptions_but_may_not_seek_them(
        self, client: Client
    ) -> None:
        topic, sub = await orders_world(client)
        await as_admin(
            client, "POST", f"/v1/topics/{topic}/messages", json={"messages": [{"data": "m"}]}
        )
        pulled = await client.post(
            f"/v1/subscriptions/{sub}/pull", json={}, headers=bearer(CONSUMER)
        )
        [message] = (await pulled.json())["messages"]
        acked = await client.post(
            f"/v1/subscriptions/{sub}/ack",
            json={"ack_ids": [message["ack_id"]]},
            headers=bearer(CONSUMER),
        )
        seek = await client.post(
            f"/v1/subscriptions/{sub}/seek", json={"position": "earliest"}, headers=bearer(CONSUMER)
        )
        deleted = await client.delete(f"/v1/subscriptions/{sub}", headers=bearer(CONSUMER))
        assert (await acked.json())["acked"] == 1
        assert (await error_of(seek, 403))["action"] == "admin"
        assert (await error_of(deleted, 403))["action"] == "admin"

    async def test_lists_show_only_the_names_a_token_holds_a_permission_on(
        self, client: Client
    ) -> None:
        topic, sub = await orders_world(client)
        await as_admin(client, "POST", "/v1/topics", json={"name": "payroll-2"})
        topics = await (await client.get("/v1/topics", headers=bearer(CONSUMER))).json()
        subs = await (await client.get("/v1/subscriptions", headers=bearer(CONSUMER))).json()
        everything = await (await client.get("/v1/topics", headers=bearer(ADMIN))).json()
        seen = {t["name"] for t in topics["topics"]}
        assert topic in seen
        assert "payroll-2" not in seen
        assert {t["name"] for t in everything["topics"]} >= {topic, "payroll-2"}
        assert sub in {s["name"] for s in subs["subscriptions"]}

    async def test_describing_needs_some_permission_on_the_name(self, client: Client) -> None:
        topic, sub = await orders_world(client)
        await as_admin(client, "POST", "/v1/topics", json={"name": "payroll-3"})
        for path in [
            f"/v1/topics/{topic}",
            f"/v1/topics/{topic}/stats",
            f"/v1/subscriptions/{sub}",
        ]:
            assert (await client.get(path, headers=bearer(PUBLISHER))).status == 200
        refused = await client.get("/v1/topics/payroll-3", headers=bearer(PUBLISHER))
        assert (await error_of(refused, 403))["action"] is None

    async def test_a_new_subscription_needs_admin_on_it_and_rights_on_what_it_reads_and_writes(
        self, client: Client
    ) -> None:
        # Given a billing admin, whose pattern does not cover the orders topic
        topic, _ = await orders_world(client)
        await as_admin(client, "POST", "/v1/topics", json={"name": "billing-dlq"})
        await as_admin(client, "POST", "/v1/topics", json={"name": "billing-events"})
        own = {"name": "billing-sub", "topic": "billing-events"}
        # When it creates subscriptions
        foreign = await client.post(
            "/v1/subscriptions", json={**own, "topic": topic}, headers=bearer(BILLING)
        )
        dead_letters_elsewhere = await client.post(
            "/v1/subscriptions",
            json={**own, "max_delivery_attempts": 3, "dead_letter_topic": topic},
            headers=bearer(BILLING),
        )
        created = await client.post(
            "/v1/subscriptions",
            json={**own, "max_delivery_attempts": 3, "dead_letter_topic": "billing-dlq"},
            headers=bearer(BILLING),
        )
        # Then reading another team's topic, or writing into it, is not gained that way
        assert (await error_of(foreign, 403)) | {"message": ""} == {
            "code": "permission_denied", "message": "", "action": "subscribe", "name": topic,
        }  # fmt: skip
        assert (await error_of(dead_letters_elsewhere, 403))["action"] == "publish"
        assert created.status == 201

    async def test_creating_a_topic_needs_admin_on_its_name(self, client: Client) -> None:
        refused = await client.post(
            "/v1/topics", json={"name": "orders-new"}, headers=bearer(PUBLISHER)
        )
        created = await client.post(
            "/v1/topics", json={"name": "billing-new"}, headers=bearer(BILLING)
        )
        assert (await error_of(refused, 403))["action"] == "admin"
        assert created.status == 201

    async def test_an_invalid_name_in_the_path_is_a_400_before_any_permission_check(
        self, client: Client
    ) -> None:
        response = await client.get("/v1/topics/..hidden", headers=bearer(PUBLISHER))
        assert (await error_of(response, 400))["code"] == "invalid_name"


class TestPythonClient:
    async def test_the_client_sends_its_token_as_a_bearer_header(self, client: Client) -> None:
        url = str(client.make_url("")).rstrip("/")
        async with PubSubClient(url, ADMIN) as admin, PubSubClient(url) as anonymous:
            await admin.topics.create("orders-client")
            with pytest.raises(Unauthorized):
                await anonymous.topics.list()
        async with PubSubClient(url, PUBLISHER) as publisher:
            assert await publisher.publish("orders-client", b"x")
            with pytest.raises(Forbidden):
                await publisher.topics.delete("orders-client")
