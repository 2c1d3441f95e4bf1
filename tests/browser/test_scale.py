"""A thousand topics and ten thousand messages in one topic stay usable: the overview pages
its tables (and asks for the stats of one page only), and the message list loads pages as it
scrolls while holding only the rows in view."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.broker_process import unique
from tests.browser.conftest import Browsing, Console

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]

TOPICS = 1000
MESSAGES = 10_000
#: Generous bounds on a shared 2-core machine; the figures themselves are printed.
OVERVIEW_SECONDS = 5.0
SCROLL_SECONDS = 30.0
#: The most rows a virtual list may hold in the page at once (those in view and a few).
MOST_ROWS = 60


@pytest.mark.parametrize("console", ["memory"], indirect=True)
def test_a_thousand_topics_and_ten_thousand_messages_stay_usable(
    console: Console, browsing: Browsing
) -> None:
    page = browsing.page
    prefix = unique("scale")
    names = [console.rest.topic(f"{prefix}-{n:04d}") for n in range(TOPICS)]
    big = names[0]
    for start in range(0, MESSAGES, 1000):
        console.rest.publish(big, *(f'{{"n": {n}}}' for n in range(start, start + 1000)))
    stats_requests: list[str] = []
    page.on("request", lambda r: stats_requests.append(r.url) if r.url.endswith("/stats") else None)
    # When the overview opens
    began = time.monotonic()
    page.goto(console.at())
    pager = page.get_by_role("navigation", name="Topics pages")
    expect(pager).to_contain_text("1–15 of 1,000 topics, page 1 of 67")
    topics = page.get_by_role("table", name="Topics")
    expect(topics.get_by_role("cell", name="10,000")).to_be_visible()
    overview = time.monotonic() - began
    # Then a page of rows is shown, and only its stats were asked for
    expect(topics.locator("tbody tr")).to_have_count(15)
    assert len(stats_requests) <= 2 * 15
    pager.get_by_role("button", name="Next").click()
    expect(pager).to_contain_text("16–30 of 1,000 topics")
    page.get_by_label("Filter topics by name").fill(names[-1])
    expect(topics.locator("tbody tr")).to_have_count(1)
    # When the big topic's messages are scrolled to the end
    page.goto(console.at(f"#/topics/{big}"))
    status = page.get_by_role("status").filter(has_text="loaded of 10,000 stored")
    expect(status).to_contain_text("500 loaded")
    listbox = page.get_by_role("listbox", name=f"Messages of {big}")
    listbox.focus()
    began = time.monotonic()
    most_rows = 0
    last = listbox.get_by_role("option").last
    # End until every message is loaded and the list shows the last one (a page that
    # arrives after an End redraws the rows, so End is pressed again)
    while not (
        "10,000 loaded" in status.inner_text() and last.get_attribute("aria-posinset") == "10000"
    ):
        listbox.press("End")
        most_rows = max(most_rows, listbox.get_by_role("option").count())
        assert time.monotonic() - began < SCROLL_SECONDS, status.inner_text()
    scrolled = time.monotonic() - began
    # Then the last message is there, and the page never held more than the rows in view
    expect(listbox.get_by_role("option").last).to_contain_text('{"n": 9999}')
    expect(listbox.get_by_role("option").last).to_have_attribute("aria-posinset", "10000")
    assert most_rows <= MOST_ROWS
    print(f"\noverview of {TOPICS} topics: {overview:.2f} s;", end=" ")
    print(f"{MESSAGES} messages scrolled: {scrolled:.2f} s")
    assert overview < OVERVIEW_SECONDS
