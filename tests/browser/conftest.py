"""Chromium driven by Playwright through the console of a real ``pubsubgo-server`` process,
on memory and on Redis storage; every test fails on an error in the browser's console.

Debian's ``chromium`` is used (``playwright install`` cannot download browsers here); the
tests skip without it, naming the package, unless PUBSUB_TEST_REQUIRE_SERVERS is set. The
screenshots of docs/console.md are written where ``CONSOLE_SCREENSHOTS`` points (by the
memory runs); without it they go to a temporary directory, taken all the same.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.broker_process import BrokerProcess
from tests.browser.rest import Rest
from tests.redis.servers import RedisServer

#: Debian's Chromium (``playwright install`` cannot download browsers here). Without it the
#: tests marked ``browser`` skip, naming the package (tests/conftest.py BINARIES).
CHROMIUM = "/usr/bin/chromium"
#: Headless, and nothing that would reach out to the network on its own.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: A laptop's screen.
VIEWPORT = {"width": 1440, "height": 900}
#: How long the page may take to show what a test waits for (the overview refreshes every
#: 5 s, so a change shows within one refresh and a half).
DEADLINE_MS = 10_000
ADMIN = "console-admin-token-0123456789"
#: May read and consume orders* and nothing else.
VIEWER = "console-viewer-token-0123456789"
#: What Chromium logs for an HTTP error answer: allowed only where a test provokes one.
HTTP_401 = re.compile(r"Failed to load resource: .*status of 401")

#: What axe-core checks: WCAG 2.1 A and AA (labels, names, roles, contrast...) and its best
#: practices (landmarks, headings).
AXE_RULES = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"],
    }
}

expect.set_options(timeout=DEADLINE_MS)


def assert_accessible(page: Page) -> None:
    """axe-core finds no violation on the page as it is now."""
    found = Axe().run(page, options=AXE_RULES).response["violations"]
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']}: {[n['target'] for n in v['nodes']][:3]}"
        for v in found
    ]
    assert not problems, "accessibility violations:\n" + "\n".join(problems)


@dataclass
class Console:
    """A running broker: its URL, a REST client (admin token when auth is on), its storage."""

    url: str
    rest: Rest
    backend: str

    def at(self, fragment: str = "#/") -> str:
        """The console's address for a page, e.g. ``#/topics/orders``."""
        return f"{self.url}/console/{fragment}"


@dataclass
class Browsing:
    """A fresh browser context and page; what its console reported, and what may be."""

    page: Page
    problems: list[str] = field(default_factory=list)
    allowed: list[re.Pattern[str]] = field(default_factory=list)

    def allow(self, pattern: re.Pattern[str]) -> None:
        """Expect console errors matching ``pattern`` (a test that provokes them)."""
        self.allowed.append(pattern)

    def unexpected(self) -> list[str]:
        return [p for p in self.problems if not any(a.search(p) for a in self.allowed)]


@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    # Package scope, not session: Playwright's sync API runs an event loop in this thread
    # while it is open, which the asyncio tests after this package could not start beside.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browsing(chromium: Browser) -> Iterator[Browsing]:
    context = chromium.new_context(viewport=VIEWPORT)  # type: ignore[arg-type]
    page = context.new_page()
    page.set_default_timeout(DEADLINE_MS)
    seen = Browsing(page)
    page.on("console", lambda m: _report(seen, m.type, m.text))
    page.on("pageerror", lambda error: seen.problems.append(f"uncaught: {error}"))
    try:
        yield seen
    finally:
        context.close()
    unexpected = seen.unexpected()
    assert not unexpected, "the browser's console reported:\n" + "\n".join(unexpected)


def _report(seen: Browsing, kind: str, text: str) -> None:
    if kind in ("error", "warning"):
        seen.problems.append(f"console.{kind}: {text}")


def _start(workdir: Path, settings: dict[str, str]) -> BrokerProcess:
    broker = BrokerProcess(workdir, settings={"PUBSUB_LOG_LEVEL": "WARNING", **settings})
    broker.start()
    return broker


@pytest.fixture(scope="module", params=["memory", pytest.param("redis", marks=pytest.mark.redis)])
def console(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Console]:
    """A broker without auth, on each storage backend."""
    settings: dict[str, str] = {}
    if request.param == "redis":
        redis: RedisServer = request.getfixturevalue("redis_server")
        settings = {"PUBSUB_STORAGE_BACKEND": "redis", "PUBSUB_REDIS_URL": redis.url}
    broker = _start(tmp_path_factory.mktemp("console"), settings)
    try:
        yield Console(broker.url, Rest(broker.url), request.param)
    finally:
        broker.stop()


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Console]:
    """A broker with auth on: an admin token, and a viewer of orders* only."""
    tokens = [
        {"name": "admin", "token": ADMIN, "permissions": [{"action": "admin", "pattern": "*"}]},
        {
            "name": "viewer",
            "token": VIEWER,
            "permissions": [{"action": "subscribe", "pattern": "orders*"}],
        },
    ]
    settings = {"PUBSUB_AUTH_ENABLED": "true", "PUBSUB_AUTH_TOKENS": json.dumps(tokens)}
    broker = _start(tmp_path_factory.mktemp("secured"), settings)
    try:
        yield Console(broker.url, Rest(broker.url, ADMIN), "memory")
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def screenshot_directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = os.environ.get("CONSOLE_SCREENSHOTS")
    if not target:
        return tmp_path_factory.mktemp("screenshots")
    directory = Path(target)
    directory.mkdir(parents=True, exist_ok=True)
    return directory


@dataclass
class Snap:
    """Takes full-page screenshots into ``directory``."""

    directory: Path

    def __call__(self, page: Page, name: str) -> Path:
        path = self.directory / f"{name}.png"
        page.evaluate("window.scrollTo(0, 0)")  # the sticky header at the top of the picture
        page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def snap(screenshot_directory: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Snap:
    """Screenshots, kept for the docs from the memory runs (Redis runs take theirs aside)."""
    arguments = request.node.funcargs
    console: Console | None = arguments.get("console") or arguments.get("secured")
    on_memory = console is None or console.backend == "memory"
    return Snap(screenshot_directory if on_memory else tmp_path)
