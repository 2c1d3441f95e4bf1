"""Listing at scale over HTTP on both backends: ``limit``, ``page_token`` and ``prefix``
page through topics and subscriptions; unknown or malformed parameters are refused."""

from __future__ import annotations

from typing import Any

import pytest

from pubsubgo.config import Settings
from pubsubgo.ports.storage import Storage
from tests.conftest import unique
from tests.integration.conftest import Client
from tests.integration.security import ADMIN, BILLING, auth_settings, bearer


@pytest.fixture
def storage(on_every_backend: Storage) -> Storage:
    return on_every_backend


async def _create(client: Client, path: str, body: dict[str, Any]) -> None:
    response = await client.post(path, json=body, headers=bearer(ADMIN))
    assert response.status == 201, await response.text()


async def _pages(client: Client, path: str, field: str, **params: Any) -> list[list[str]]:
    """The names on each page, following next_page_token."""
    pages: list[list[str]] = []
    while True:
        response = await client.get(path, params=params, headers=bearer(ADMIN))
        assert response.status == 200, await response.text()
        answer = await response.json()
        pages.append([item["name"] for item in answer[field]])
        if answer["next_page_token"] is None:
            return pages
        params["page_token"] = answer["next_page_token"]


class TestPaging:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return auth_settings(settings)

    async def test_topics_come_a_page_at_a_time_by_prefix(self, client: Client) -> None:
        prefix = unique("list") + "-"
        names = [f"{prefix}{i}" for i in range(5)]
        for name in [*names, unique("other")]:
            await _create(client, "/v1/topics", {"name": name})

        pages = await _pages(client, "/v1/topics", "topics", prefix=prefix, limit=2)

        assert pages == [names[:2], names[2:4], names[4:]]

    async def test_subscriptions_of_a_topic_come_a_page_at_a_time(self, client: Client) -> None:
        topic = unique("listed")
        await _create(client, "/v1/topics", {"name": topic})
        names = [f"{topic}-s{i}" for i in range(3)]
        for name in names:
            await _create(client, "/v1/subscriptions", {"name": name, "topic": topic})

        pages = await _pages(client, "/v1/subscriptions", "subscriptions", topic=topic, limit=2)

        assert pages == [names[:2], names[2:]]

    async def test_a_token_sees_only_its_names_yet_pages_to_the_end(self, client: Client) -> None:
        # Given topics the billing token may see and others it may not, interleaved
        await _create(client, "/v1/topics", {"name": "billing-invoices"})
        await _create(client, "/v1/topics", {"name": "hidden-topic"})
        # When the billing token lists one topic per page
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 1}
        while True:
            answer = await (
                await client.get("/v1/topics", params=params, headers=bearer(BILLING))
            ).json()
            seen += [t["name"] for t in answer["topics"]]
            if answer["next_page_token"] is None:
                break
            params["page_token"] = answer["next_page_token"]
        # Then it sees its topics and never the others
        assert "billing-invoices" in seen
        assert "hidden-topic" not in seen


class TestRefusals:
    @pytest.mark.parametrize(
        "query",
        [
            "limit=abc",
            "limit=0",
            "limit=1001",
            "page_token=%25%25%25",
            "prefix=a%20b",
            "unknown=1",
            "limit=1&limit=2",
        ],
    )
    @pytest.mark.parametrize("path", ["/v1/topics", "/v1/subscriptions"])
    async def test_a_bad_or_unknown_parameter_is_a_400(
        self, client: Client, path: str, query: str
    ) -> None:
        response = await client.get(f"{path}?{query}")
        assert response.status == 400
        assert (await response.json())["error"]["code"] in {"invalid_request", "invalid_argument"}

    async def test_a_subscription_list_of_an_invalid_topic_name_is_a_400(
        self, client: Client
    ) -> None:
        response = await client.get("/v1/subscriptions", params={"topic": "not a name"})
        assert response.status == 400
