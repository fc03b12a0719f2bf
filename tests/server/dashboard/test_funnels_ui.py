"""A funnel built in the browser equals the same funnel from the Python API, and its drop-off
cohort downloads as the people the API names."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from dashboard_helpers import Served, Tab, read_table

from journeykit.analytics import funnel

pytestmark = pytest.mark.browser


def build(page: Any, steps: list[tuple[str, str]], **fields: str) -> None:
    """Fill the funnel builder: one row per step (event, condition), then the other fields."""
    rows = page.locator("#steps .step-row")
    while rows.count() > len(steps):
        rows.nth(rows.count() - 1).locator("[data-remove-step]").click()
    while rows.count() < len(steps):
        page.click("[data-add-step]")
    for i, (event, where) in enumerate(steps):
        row = rows.nth(i)
        row.locator("select[name=step]").select_option(event)
        row.locator("input[name=where]").fill(where)
    for name, value in fields.items():
        target = page.locator(f"form.funnel-builder [name={name}]")
        if target.evaluate("e => e.tagName") == "SELECT":
            target.select_option(value)
        else:
            target.fill(value)
    with page.expect_navigation():
        page.click("#run-funnel")
    page.wait_for_selector("div.chart[data-rendered]", timeout=60_000)


def test_funnel_built_in_the_ui_equals_the_api(tab: Tab, dashboard: Served) -> None:
    steps = [
        ("Product Viewed", ""),
        ("Checkout Started", 'properties.platform == "ios"'),
        ("Order Completed", 'channel == "app"'),
    ]
    tab.open("/funnels")
    build(tab.page, steps, window="7d", mode="ordered")
    shown = read_table(tab.page, "Steps")
    with dashboard.lock:
        expected = funnel(
            dashboard.ws,
            [s if not w else {"event": s, "where": w} for s, w in steps],
            window="7d",
            mode="ordered",
        ).table
    assert [int(r["people"]) for r in shown] == expected["units"].tolist()
    assert [int(r["dropped"]) for r in shown] == expected["dropped"].tolist()
    for got, want in zip(shown, expected["conversion"], strict=True):
        assert float(got["conversion"]) == pytest.approx(float(want))
    assert expected["units"].iloc[-1] > 0  # the funnel is not trivially empty
    # the builder keeps what was asked for
    assert tab.page.locator("form.funnel-builder [name=window]").input_value() == "7d"
    assert tab.errors == []


def test_breakdown_and_any_order_equal_the_api(tab: Tab, dashboard: Served) -> None:
    steps = [("Product Added", ""), ("Signed Up", "")]
    tab.open("/funnels")
    build(tab.page, steps, mode="any", by="first_channel", per="person")
    shown = read_table(tab.page, "By group")
    with dashboard.lock:
        result = funnel(
            dashboard.ws, ["Product Added", "Signed Up"], mode="any", by="first_channel"
        )
    want = {r.first_channel: (r.entered, r.converted) for r in result.overall.itertuples()}
    got = {r["first_channel"]: (int(r["entered"]), int(r["converted"])) for r in shown}
    assert got == want
    # each group's drop-off cohort downloads as that group's people
    steps_table = read_table(tab.page, "Steps")
    row = next(r for r in steps_table if r["first_channel"] == "ads" and r["step"] == "2")
    csv_text = tab.page.request.get(dashboard.url + row["drop-off cohort"]).text()
    people = [r["person_id"] for r in csv.DictReader(io.StringIO(csv_text))]
    with dashboard.lock:
        dropped = result.dropped_at(2, {"first_channel": "ads"})["person_id"].tolist()
    assert people == dropped and len(people) == int(row["dropped"])
    assert tab.errors == []


def test_dropoff_cohort_csv_lists_the_people_the_api_names(tab: Tab, dashboard: Served) -> None:
    tab.open("/funnels")
    link = tab.page.locator("a", has_text="CSV of people").first
    href = link.get_attribute("href")
    assert href is not None and "at=2" in href
    with tab.page.expect_download() as info:
        link.click()
    text = info.value.path().read_text(encoding="utf-8")
    people = [row["person_id"] for row in csv.DictReader(io.StringIO(text))]
    with dashboard.lock:
        result = funnel(
            dashboard.ws,
            ["Product Viewed", "Product Added", "Checkout Started", "Order Completed"],
        )
        dropped = result.dropped_at(2)["person_id"].tolist()
    assert people == dropped
    assert len(people) == int(result.table["dropped"].iloc[1])


def test_bad_input_shows_a_message_not_a_traceback(tab: Tab) -> None:
    tab.open(
        "/funnels?step=Product+Viewed&step=Order+Completed&where=&where=channel+%3D+1", chart=False
    )
    error = tab.page.locator(".notice.error").inner_text()
    assert "==" in error  # the filter parser says what to write
    assert "Traceback" not in tab.page.content()
    # the builder is still there to fix it
    assert tab.page.locator("#steps .step-row").count() == 2
