"""The web console's files: served at /console from the package, public, confined to the
files the console ships, left out of the OpenAPI document, and gone when disabled."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from pubsubgo.adapters.console.routes import STATIC_DIRECTORY
from pubsubgo.config import ConsoleSettings, Settings, load_settings
from tests.integration.conftest import Client
from tests.integration.security import auth_settings

#: A module's static imports: ``from "./x.js"`` and ``import "./x.js"``.
_IMPORT = re.compile(r"""(?:from|import)\s+["']\./([\w.-]+)["']""")
#: The files ``index.html`` loads.
_REFERENCE = re.compile(r"""(?:src|href)="([\w.-]+)\"""")


async def _text(client: Client, path: str, content_type: str) -> str:
    response = await client.get(path)
    assert response.status == 200, path
    assert response.headers["Content-Type"].startswith(content_type), path
    return await response.text()


class TestServing:
    async def test_console_redirects_to_the_page_which_is_html_with_a_strict_policy(
        self, client: Client
    ) -> None:
        # When
        redirect = await client.get("/console", allow_redirects=False)
        page = await client.get("/console/")
        # Then
        assert redirect.status == 308
        assert redirect.headers["Location"] == "console/"
        assert page.status == 200
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        policy = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "frame-ancestors 'none'" in policy
        assert page.headers["X-Content-Type-Options"] == "nosniff"
        assert page.headers["Referrer-Policy"] == "no-referrer"

    async def test_every_file_the_page_loads_is_served_with_its_type(self, client: Client) -> None:
        # Given the page and what it references
        index = await _text(client, "/console/", "text/html")
        referenced = set(_REFERENCE.findall(index))
        assert {"main.js", "console.css", "favicon.svg"} <= referenced
        # When every module is followed through its imports
        seen: set[str] = set()
        pending = [name for name in referenced if name.endswith(".js")]
        while pending:
            name = pending.pop()
            if name in seen:
                continue
            seen.add(name)
            source = await _text(client, f"/console/{name}", "text/javascript")
            pending += _IMPORT.findall(source)
        # Then every module of the package is reached, and the rest is served too
        shipped = {path.name for path in STATIC_DIRECTORY.glob("*.js")}
        assert seen == shipped
        await _text(client, "/console/console.css", "text/css")
        await _text(client, "/console/favicon.svg", "image/svg+xml")

    @pytest.mark.parametrize(
        "path",
        [
            "/console/nothing.js",
            "/console/..%2Froutes.py",
            "/console/%2E%2E%2F__init__.py",
            "/console/routes.py",
            "/console/static",
        ],
    )
    async def test_anything_but_a_shipped_file_is_a_404_in_the_error_shape(
        self, client: Client, path: str
    ) -> None:
        response = await client.get(path)
        assert response.status == 404
        assert (await response.json())["error"]["code"] == "not_found"

    async def test_the_document_leaves_the_console_out(self, client: Client) -> None:
        document = await (await client.get("/v1/openapi.json")).json()
        assert not [path for path in document["paths"] if path.startswith("/console")]


class TestWithAuth:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return auth_settings(settings)

    async def test_the_files_need_no_token_while_the_api_does(self, client: Client) -> None:
        assert (await client.get("/console/")).status == 200
        assert (await client.get("/console/api.js")).status == 200
        assert (await client.get("/v1/topics")).status == 401


class TestDisabled:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return settings.model_copy(update={"console": ConsoleSettings(enabled=False)})

    async def test_no_console_route_answers(self, client: Client) -> None:
        for path in ("/console", "/console/", "/console/main.js"):
            response = await client.get(path, allow_redirects=False)
            assert response.status == 404, path
        assert (await client.get("/healthz")).status == 200


def test_the_console_is_on_by_default_and_pubsub_console_enabled_turns_it_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)  # no ./config.yaml
    for name in [n for n in os.environ if n.startswith("PUBSUB_")]:
        monkeypatch.delenv(name)
    assert load_settings().console.enabled is True
    monkeypatch.setenv("PUBSUB_CONSOLE_ENABLED", "false")
    assert load_settings().console.enabled is False
