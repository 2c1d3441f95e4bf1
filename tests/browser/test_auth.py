"""The console with auth on: the token is asked for once, kept for the tab only, sent as a
bearer header or the WebSocket subprotocol and never in a URL; what a token may not do is
not offered."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, WebSocket, expect

from tests.broker_process import unique
from tests.browser.conftest import (
    ADMIN,
    HTTP_401,
    VIEWER,
    Browsing,
    Console,
    Snap,
    assert_accessible,
)

pytestmark = pytest.mark.browser

TOKEN_KEY = "pubsubgo.console.token"


def sign_in(page: Page, token: str) -> None:
    page.get_by_label("Token").fill(token)
    page.get_by_role("button", name="Sign in").click()


class TestSigningIn:
    def test_the_token_is_asked_once_kept_for_the_tab_and_never_put_in_a_url(
        self, secured: Console, browsing: Browsing, snap: Snap
    ) -> None:
        page = browsing.page
        browsing.allow(HTTP_401)  # the first look finds no token; a wrong one is refused
        addresses: list[str] = []
        page.on("request", lambda request: addresses.append(request.url))
        sockets: list[WebSocket] = []
        page.on("websocket", lambda socket: sockets.append(socket))
        # Given the console of a broker that asks for tokens
        page.goto(secured.at())
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        assert_accessible(page)
        snap(page, "sign-in")
        # When a wrong token is entered, then the right one
        sign_in(page, "not-a-token")
        expect(page.get_by_role("alert")).to_have_text("That token is not valid.")
        sign_in(page, ADMIN)
        # Then the overview shows, with who is signed in
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        expect(page.locator("#identity")).to_contain_text("Token: admin")
        stored = page.evaluate(f"[sessionStorage.getItem('{TOKEN_KEY}'), localStorage.length]")
        assert stored == [ADMIN, 0]
        # And a reload of the tab does not ask again
        page.reload()
        expect(page.get_by_role("heading", name="Overview")).to_be_visible()
        # And the live tail authenticates its WebSocket with the token too
        topic = secured.rest.topic(unique("orders"))
        page.goto(secured.at(f"#/tail/{topic}"))
        expect(page.locator(".tail-status")).to_contain_text(f"Following {topic}")
        secured.rest.publish(topic, "over the socket")
        expect(page.get_by_role("option").filter(has_text="over the socket")).to_be_visible()
        # And no address the page used carries the token
        assert sockets, "the tail opened no WebSocket"
        used = addresses + [socket.url for socket in sockets]
        assert not [url for url in used if ADMIN in url or "access_token" in url]
        # When signing out, the token is forgotten
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
        assert page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None


class TestLimitedToken:
    def test_what_the_token_may_not_do_is_not_offered(
        self, secured: Console, browsing: Browsing
    ) -> None:
        page = browsing.page
        browsing.allow(HTTP_401)
        # Given orders* (which the viewer may consume) with a dead letter, and payroll (not)
        rest = secured.rest
        topic = rest.topic(unique("orders"))
        dead = rest.topic(unique("orders-dlq"))
        sub = rest.subscription(
            unique("orders-billing"), topic, start="earliest", max_delivery_attempts=1,
            dead_letter_topic=dead,
            retry_policy={"minimum_backoff_seconds": 0, "maximum_backoff_seconds": 0},
        )  # fmt: skip
        hidden = rest.topic(unique("payroll"))
        rest.publish(topic, "poison")
        rest.nack(sub, rest.pull(sub))
        # When the viewer signs in
        page.goto(secured.at())
        sign_in(page, VIEWER)
        # Then the overview lists orders* only, with nothing to create
        topics = page.get_by_role("table", name="Topics")
        expect(topics.get_by_role("link", name=topic)).to_be_visible()
        expect(topics.get_by_role("link", name=hidden)).to_have_count(0)
        expect(page.get_by_role("button", name="New topic")).to_have_count(0)
        # And the topic page lets it browse, not publish, delete or tail
        page.goto(secured.at(f"#/topics/{topic}"))
        expect(page.get_by_role("heading", name="Messages")).to_be_visible()
        expect(page.get_by_role("option").filter(has_text="poison")).to_be_visible()
        for absent in ("Publish a message",):
            expect(page.get_by_role("heading", name=absent)).to_have_count(0)
        for button in ("Delete topic", "New subscription"):
            expect(page.get_by_role("button", name=button)).to_have_count(0)
        expect(
            page.get_by_role("link", name="Live tail").and_(page.locator(".button"))
        ).to_have_count(0)
        # And the subscription page lists its dead letters without redrive, purge or seek
        page.goto(secured.at(f"#/subscriptions/{sub}"))
        expect(page.get_by_text(f"1 dead letter in {dead}.")).to_be_visible()
        for button in ("Redrive all", "Purge all", "Delete subscription", "Seek"):
            expect(page.get_by_role("button", name=button)).to_have_count(0)
        # And the live tail says it cannot follow anything
        page.goto(secured.at("#/tail"))
        expect(page.locator(".tail-status")).to_have_text("Your token may not follow any topic.")
