"""The journey map page: the map from journeykit.render embedded, filters, pain point details."""

from __future__ import annotations

import pytest
from dashboard_helpers import Served, Tab, read_table

pytestmark = pytest.mark.browser


def test_pain_point_click_shows_evidence_quotes_and_people(
    tab: Tab, dashboard: Served, artifacts: object
) -> None:
    tab.open("/journey")
    page = tab.page
    pains = page.locator(".pain-list [data-pain]")
    assert pains.count() >= 1
    # the payment failure on iOS planted in the demo is among them
    titles = pains.all_inner_texts()
    assert any("Payment failure" in t and "platform=ios" in t for t in titles), titles
    target = pains.filter(has_text="Payment failure").first
    target.click()
    detail = page.locator("#pain-detail")
    detail.locator("h3").first.wait_for()
    assert "Payment failure" in detail.locator("h3").first.inner_text()
    assert detail.locator("ul li").count() >= 1  # evidence
    people = detail.locator(".ids a")
    assert people.count() >= 1
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts / "journey-pain.png"), full_page=True)  # type: ignore[operator]
    assert detail.locator("blockquote").count() >= 1  # what the people affected said
    with page.expect_navigation():
        people.first.click()
    page.wait_for_selector("div.chart[data-rendered]")
    assert page.locator("#person").count() == 1
    assert tab.errors == []


def test_the_render_map_is_embedded_and_follows_the_filters(tab: Tab) -> None:
    tab.open("/journey?persona=Store+visitors&channel=store")
    frame = tab.page.frame_locator("#journey-map")
    frame.locator("#map svg").first.wait_for(timeout=60_000)
    assert frame.locator("#persona").input_value() == "Store visitors"
    # the channel filter narrows the touchpoints shown around the map
    rows = read_table(tab.page, "Touchpoints in this view")
    channels = {r["channel"] for r in rows}
    assert channels == {"store"}
    assert tab.errors == []
