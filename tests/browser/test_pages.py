"""The console's pages in Chromium against a real broker, on memory and on Redis: create a
topic and a subscription, publish and browse, follow the live tail, redrive and purge dead
letters, seek, and watch the overview's numbers change."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.broker_process import unique, wait_for
from tests.browser.conftest import Browsing, Console, Snap, assert_accessible

pytestmark = pytest.mark.browser

NO_BACKOFF = {"minimum_backoff_seconds": 0, "maximum_backoff_seconds": 0}


def stat(page: Page, label: str) -> Locator:
    """The value of the stat card labelled ``label``."""
    card = page.locator(".stat").filter(has=page.get_by_text(label, exact=True))
    return card.locator(".stat-value")


def option(page: Page, list_label: str, text: str) -> Locator:
    """The row of the list ``list_label`` that shows ``text``."""
    return page.get_by_role("listbox", name=list_label).get_by_role("option").filter(has_text=text)


def scroll_to(page: Page, list_label: str, text: str) -> Locator:
    """Page Down through a virtual list until the row showing ``text`` is in it."""
    listbox = page.get_by_role("listbox", name=list_label)
    listbox.focus()
    page.keyboard.press("Home")
    row = option(page, list_label, text)

    def shown() -> bool | None:
        if row.count():
            return True
        page.keyboard.press("PageDown")
        return None

    wait_for(shown, f"a row showing {text!r}")
    return row


def chart_points(page: Page) -> int:
    """How many samples the first chart's first line has."""
    points = page.locator(".chart polyline.s1").first.get_attribute("points") or ""
    return len(points.split())


def heading(page: Page, text: str) -> Locator:
    return page.get_by_role("heading", level=1).filter(has_text=text)


class TestCreating:
    def test_a_topic_and_a_subscription_are_created_through_the_forms(
        self, console: Console, browsing: Browsing
    ) -> None:
        page = browsing.page
        topic, sub = unique("orders"), unique("billing")
        # Given the overview
        page.goto(console.at())
        # When a topic is created from its dialog
        page.get_by_role("button", name="New topic").click()
        dialog = page.get_by_role("dialog", name="New topic")
        dialog.get_by_label("Name").fill(topic)
        dialog.get_by_label("Partitions").fill("3")
        dialog.get_by_role("button", name="Create topic").click()
        # Then its page opens
        expect(heading(page, topic)).to_be_visible()
        expect(page.locator(".partitions tbody tr")).to_have_count(3)
        # When a subscription is created from the topic page
        page.get_by_role("button", name="New subscription").click()
        dialog = page.get_by_role("dialog", name="New subscription")
        dialog.get_by_label("Name").fill(sub)
        dialog.get_by_label("Start from").select_option("earliest")
        dialog.get_by_label("Filter").fill('attributes.kind = "paid"')
        dialog.get_by_role("button", name="Create subscription").click()
        # Then its page opens, and the broker has both as they were asked for
        expect(heading(page, sub)).to_be_visible()
        described = console.rest.describe(sub)
        assert (described["topic"], described["start"]) == (topic, "earliest")
        assert described["filter"] == 'attributes.kind = "paid"'
        assert console.rest.call("GET", f"/v1/topics/{topic}")["partitions"] == 3

    def test_a_refused_name_is_shown_on_the_form(
        self, console: Console, browsing: Browsing
    ) -> None:
        page = browsing.page
        browsing.allow(re.compile(r"Failed to load resource: .*status of 409"))
        taken = console.rest.topic(unique("taken"))
        page.goto(console.at())
        page.get_by_role("button", name="New topic").click()
        dialog = page.get_by_role("dialog", name="New topic")
        dialog.get_by_label("Name").fill(taken)
        dialog.get_by_role("button", name="Create topic").click()
        expect(dialog.get_by_role("alert")).to_contain_text("already exists")


class TestKeyboard:
    def test_the_new_topic_dialog_works_from_the_keyboard_alone(
        self, console: Console, browsing: Browsing
    ) -> None:
        page = browsing.page
        topic = unique("keyed")
        page.goto(console.at())
        # When the dialog is opened with Enter, then closed with Escape
        page.get_by_role("button", name="New topic").focus()
        page.keyboard.press("Enter")
        dialog = page.get_by_role("dialog", name="New topic")
        expect(dialog.get_by_label("Name")).to_be_focused()
        page.keyboard.press("Escape")
        expect(dialog).to_have_count(0)
        # And opened again, filled by typing and sent with Enter
        page.get_by_role("button", name="New topic").focus()
        page.keyboard.press("Enter")
        page.keyboard.type(topic)
        page.keyboard.press("Enter")
        # Then the topic exists and its page has the focus on its heading
        expect(heading(page, topic)).to_be_focused()
        assert console.rest.call("GET", f"/v1/topics/{topic}")["name"] == topic


class TestTopic:
    def test_a_message_published_from_the_form_is_browsed_and_fetched_by_id(
        self, console: Console, browsing: Browsing, snap: Snap
    ) -> None:
        page = browsing.page
        topic = console.rest.topic(unique("orders"), partitions=2)
        console.rest.subscription(unique("billing"), topic)
        console.rest.publish(topic, *(f'{{"order": {n}, "total": {n * 2.5}}}' for n in range(12)))
        page.goto(console.at(f"#/topics/{topic}"))
        expect(page.get_by_role("status").filter(has_text="12 loaded of 12 stored")).to_be_visible()
        # When more is published, the rate chart draws it as samples arrive
        for round_ in range(4):
            drawn = chart_points(page)
            console.rest.publish(topic, *(f'{{"round": {round_}, "n": {n}}}' for n in range(10)))
            wait_for(lambda: True if chart_points(page) > drawn else None, "a sample")  # noqa: B023
        expect(page.get_by_text("Publish: 0.87/s")).to_be_visible()  # 52 in the last minute
        # When a message is published from the form
        form = page.get_by_role("form", name=f"Publish to {topic}")
        form.get_by_label("Data").fill('{"order": 99, "total": 12.5}')
        form.get_by_label("Key").fill("customer-7")
        form.get_by_label("Priority").select_option("high")
        form.get_by_label("TTL (seconds)").fill("3600")
        form.get_by_label("Attributes").fill("kind=paid\nsource=console")
        form.get_by_role("button", name="Publish").click()
        expect(form.get_by_role("status")).to_contain_text("Published message")
        published = form.get_by_role("status").inner_text().split()[-1].rstrip(".")
        # Then the browse list holds it (paged through with the keyboard), and opening it
        # shows every field
        row = scroll_to(page, f"Messages of {topic}", '"order": 99')
        row.click()
        detail = page.get_by_role("article", name=f"Message {published}")
        expect(detail).to_contain_text("customer-7")
        expect(detail).to_contain_text("high")
        expect(detail.get_by_role("row", name="kind paid")).to_be_visible()
        expect(detail.get_by_role("tab", name="JSON")).to_have_attribute("aria-selected", "true")
        expect(detail.get_by_role("tabpanel")).to_contain_text('"total": 12.5')
        detail.get_by_role("tab", name="Hex").click()
        expect(detail.get_by_role("tabpanel")).to_contain_text("7b 22 6f 72")
        assert_accessible(page)
        snap(page, "topic")
        # And fetching it by id finds it too
        page.get_by_role("button", name="Reload").click()
        page.get_by_label("Message ID").fill(published)
        page.get_by_role("button", name="Fetch").click()
        expect(page.get_by_role("article", name=f"Message {published}")).to_contain_text("source")
        stored = console.rest.call("GET", f"/v1/topics/{topic}/messages/{published}")
        assert (stored["key"], stored["priority"]) == ("customer-7", "high")
        assert stored["attributes"] == {"kind": "paid", "source": "console"}
        assert stored["expires_at"] is not None


class TestLiveTail:
    def test_the_tail_follows_filters_pauses_and_acks_nobody_elses_messages(
        self, console: Console, browsing: Browsing, snap: Snap
    ) -> None:
        # Given a topic that a bystander subscription consumes, followed by the tail
        topic = console.rest.topic(unique("orders"))
        bystander = console.rest.subscription(unique("billing"), topic, start="earliest")
        page = browsing.page
        page.goto(console.at(f"#/tail/{topic}"))
        expect(page.get_by_role("status").filter(has_text=f"Following {topic}")).to_be_visible()
        # When the filter is set and followed again
        page.get_by_label("Filter").fill('attributes.kind = "a"')
        page.get_by_role("button", name="Follow").click()
        status = page.locator(".tail-status")
        expect(status).to_contain_text('filter: attributes.kind = "a"')
        console.rest.publish(topic, "first a", "second a", attributes={"kind": "a"})
        console.rest.publish(topic, "only b", attributes={"kind": "b"})
        # Then what matches arrives, newest first
        rows = page.get_by_role("listbox", name="Received messages, newest first").get_by_role(
            "option"
        )
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("second a")
        # When paused, new messages wait
        page.get_by_role("button", name="Pause").click()
        console.rest.publish(topic, "third a", attributes={"kind": "a"})
        expect(status).to_contain_text("paused, 1 new waiting")
        expect(rows).to_have_count(2)
        # And show when resumed
        page.get_by_role("button", name="Resume").click()
        expect(rows).to_have_count(3)
        rows.first.click()
        expect(page.get_by_role("article")).to_contain_text("third a")
        assert_accessible(page)
        snap(page, "tail")
        # When stopped (the first tail, without the filter, is gone already), the tail's
        # subscription is deleted and the bystander lost nothing
        wait_for(
            lambda: True if len(console.rest.subscriptions(topic)) == 2 else None,
            "one tail subscription beside the bystander",
        )
        page.get_by_role("button", name="Stop").click()
        wait_for(
            lambda: True if console.rest.subscriptions(topic) == [bystander] else None,
            "the tail's non-durable subscription to be deleted",
        )
        assert console.rest.describe(bystander)["backlog"] == 4
        texts = sorted(m["data"] for m in console.rest.pull(bystander))
        assert texts == ["first a", "only b", "second a", "third a"]


class TestSubscription:
    def test_dead_letters_are_listed_opened_redriven_and_purged(
        self, console: Console, browsing: Browsing, snap: Snap
    ) -> None:
        page = browsing.page
        # Given a subscription that dead-lettered three messages
        topic = console.rest.topic(unique("orders"))
        dead = console.rest.topic(unique("orders-dlq"))
        sub = console.rest.subscription(
            unique("billing"), topic, start="earliest", max_delivery_attempts=1,
            dead_letter_topic=dead, retry_policy=NO_BACKOFF,
        )  # fmt: skip
        console.rest.publish(topic, "poison a", "poison b", "poison c", attributes={"kind": "x"})
        console.rest.nack(sub, console.rest.pull(sub))
        console.rest.publish(topic, *(f"waiting {n}" for n in range(4)))
        # And a consumer in its group
        console.rest.call("POST", f"/v1/subscriptions/{sub}/members", {"member_id": "worker-1"})
        page.goto(console.at(f"#/subscriptions/{sub}"))
        expect(page.get_by_text(f"3 dead letters in {dead}.")).to_be_visible()
        group = page.get_by_role("table", name="Group members")
        expect(group.get_by_role("row", name="worker-1")).to_contain_text("0")  # its partition
        expect(page.get_by_text("Generation 1, 1 consumer(s).")).to_be_visible()
        # When one is opened and selected
        letters = f"Dead letters of {sub}"
        option(page, letters, "poison b").click()
        detail = page.get_by_role("article")
        expect(detail).to_contain_text("max_delivery_attempts_exceeded")
        expect(detail).to_contain_text("Attempts")
        option(page, letters, "poison b").locator(".check").click()
        expect(option(page, letters, "poison b")).to_have_attribute("aria-selected", "true")
        assert_accessible(page)
        snap(page, "subscription")
        # And redriven
        page.get_by_role("button", name="Redrive selected (1)").click()
        expect(page.get_by_text(f"2 dead letters in {dead}.")).to_be_visible()
        # Then it is back on the subscription, with its attempts counted afresh
        [again] = [m for m in console.rest.pull(sub) if m["data"].startswith("poison")]
        assert (again["data"], again["delivery_attempt"]) == ("poison b", 1)
        # When the rest are purged
        page.get_by_role("button", name="Purge all").click()
        page.get_by_role("dialog").get_by_role("button", name="Purge all").click()
        expect(page.get_by_text(f"0 dead letters in {dead}.")).to_be_visible()
        assert console.rest.call("GET", f"/v1/topics/{dead}/stats")["messages"] == 0

    def test_seek_moves_the_subscription_to_earliest_latest_and_a_time(
        self, console: Console, browsing: Browsing
    ) -> None:
        page = browsing.page
        topic = console.rest.topic(unique("orders"))
        sub = console.rest.subscription(unique("billing"), topic, start="earliest")
        before = datetime.now() - timedelta(minutes=5)
        console.rest.publish(topic, "one", "two", "three")
        console.rest.ack(sub, console.rest.pull(sub))
        page.goto(console.at(f"#/subscriptions/{sub}"))
        backlog = stat(page, "Backlog")
        expect(backlog).to_have_text("0")

        def seek(choice: str) -> None:
            page.get_by_label(choice).check()
            page.get_by_role("button", name="Seek", exact=True).click()
            page.get_by_role("dialog").get_by_role("button", name="Seek").click()

        seek("the earliest stored message (deliver everything again)")
        expect(backlog).to_have_text("3")
        seek("the latest (skip the backlog)")
        expect(backlog).to_have_text("0")
        page.get_by_label("Time to seek to (local time)").fill(before.strftime("%Y-%m-%dT%H:%M:%S"))
        seek("the first message at or after")
        expect(backlog).to_have_text("3")


class TestOverview:
    def test_topics_and_subscriptions_show_with_numbers_that_refresh(
        self, console: Console, browsing: Browsing, snap: Snap
    ) -> None:
        dead = console.rest.topic(unique("payments-dlq"))
        topic = console.rest.topic(unique("payments"), partitions=4)
        page = browsing.page
        sub = console.rest.subscription(
            unique("ledger"), topic, start="earliest", max_delivery_attempts=5,
            dead_letter_topic=dead,
        )  # fmt: skip
        console.rest.publish(topic, *(f"payment {n}" for n in range(5)))
        page.goto(console.at())
        topics = page.get_by_role("table", name="Topics")
        subscriptions = page.get_by_role("table", name="Subscriptions")
        topic_row = topics.get_by_role("row").filter(has=page.get_by_role("link", name=topic))
        sub_row = subscriptions.get_by_role("row").filter(has=page.get_by_role("link", name=sub))
        expect(topic_row.get_by_role("cell").nth(1)).to_have_text("5")  # the messages
        expect(sub_row.get_by_role("cell").nth(1)).to_have_text("5")  # the backlog
        expect(sub_row).to_contain_text(f"0 in {dead}")
        # When more is published, the numbers follow without a reload
        console.rest.publish(topic, "payment 5", "payment 6")
        expect(sub_row.get_by_role("cell").nth(1)).to_have_text("7")
        expect(topic_row.get_by_role("cell").nth(1)).to_have_text("7")
        assert_accessible(page)
        snap(page, "overview")
        # And the filter narrows the table to one topic
        page.get_by_label("Filter topics by name").fill(topic)
        expect(topics.locator("tbody tr")).to_have_count(1)
