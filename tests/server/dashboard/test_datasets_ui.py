"""Every page on both demos and on a bring-your-own export: names, money and numbers come
from each workspace's journey spec, never from the demo retailer's vocabulary.

Screenshots of each page go to tests/_artifacts/dashboard/<data set>/.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dashboard_helpers import Served, Tab

pytestmark = pytest.mark.browser

PAGES = {
    "overview": "/",
    "journey": "/journey",
    "funnels": "/funnels",
    "flows": "/flows",
    "retention": "/retention",
    "segments": "/segments",
    "voc": "/voc",
    "people": "/people",
    "automations": "/automations",
}
#: Pages whose default view must draw a chart on every data set.
CHARTED = {"overview", "journey", "funnels", "flows", "retention", "segments"}
#: What money looks like in each data set's currency (its spec's ``currency``).
CURRENCY = {"retail": "£", "bank": "€", "byo": "CHF "}


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_on_every_data_set(
    page: str, any_tab: Tab, any_dashboard: tuple[str, Served], artifacts: Path
) -> None:
    name, served = any_dashboard
    response = any_tab.open(PAGES[page], chart=page in CHARTED, timeout=180_000)
    assert response is not None and response.status == 200
    tab = any_tab.page
    assert tab.locator("h1").count() == 1
    errors = tab.locator(".notice.error")
    assert errors.count() == 0, errors.first.inner_text()
    tab.wait_for_function(
        "() => [...document.querySelectorAll('div.chart')].every(d => d.dataset.rendered)",
        timeout=120_000,
    )
    if page in CHARTED:
        assert tab.locator("div.chart .main-svg").count() >= 1
    # money is in the spec's currency, never a dollar the spec did not ask for
    body = tab.locator("main").inner_text() if tab.locator("main").count() else tab.content()
    assert "$" not in body
    folder = artifacts / name
    folder.mkdir(exist_ok=True)
    tab.screenshot(path=str(folder / f"{page}.png"), full_page=True)
    assert any_tab.errors == [], any_tab.errors
    outside = [u for u in any_tab.requests if not u.startswith(served.url)]
    assert [u for u in outside if not u.startswith("data:")] == []


def test_overview_cards_in_the_spec_currency(
    any_tab: Tab, any_dashboard: tuple[str, Served]
) -> None:
    name, _ = any_dashboard
    any_tab.open("/?start=2025-01-01&end=2027-12-31", timeout=180_000)
    cards = any_tab.page.locator("#kpis .card")
    texts = {c.locator(".label").inner_text().strip(): c.inner_text() for c in cards.all()}
    revenue = next(v for k, v in texts.items() if k.lower().startswith("revenue"))
    assert CURRENCY[name] in revenue, revenue
    # a real conversion: not the 0 % of a vocabulary the data does not have
    conversion = next(v for k, v in texts.items() if k.lower().startswith("conversion"))
    value = float(re.search(r"([\d.]+)%", conversion).group(1))  # type: ignore[union-attr]
    assert value > 0, conversion
    if name == "byo":
        from byo_data import TRAVEL_REF

        # over its whole range: 150 of the 300 travellers booked, CHF 30,600 in all
        assert f"CHF {TRAVEL_REF['revenue']:,.0f}" in revenue
        assert f"{100 * TRAVEL_REF['bookers'] / TRAVEL_REF['people']:.1f}%" in conversion


def test_the_journey_map_of_the_byo_export_matches_the_hand_count(
    browser: object, byo_dashboard: Served
) -> None:
    from dashboard_helpers import signed_in_tab

    from byo_data import TRAVEL_REF, booker, first_price, repeat_booker, repeat_price

    for tab in signed_in_tab(browser, byo_dashboard, 1366, 900):
        tab.open("/journey", timeout=180_000)
        cards = tab.page.locator(".cards .card")
        values = {
            c.locator(".label").inner_text().strip().lower(): c.locator(".value").inner_text()
            for c in cards.all()
        }
        assert values["people on the map"] == f"{TRAVEL_REF['people']:,}"
        assert values["reached a goal"] == f"{TRAVEL_REF['bookers']:,}"
        assert values["revenue"] == f"CHF {TRAVEL_REF['revenue']:,.0f}"
        assert tab.errors == []
        # the most valuable travellers by the spec's revenue field (total_price), by hand
        spent = {
            k: first_price(k) + (repeat_price(k) if repeat_booker(k) else 0.0)
            for k in range(TRAVEL_REF["people"])
            if booker(k)
        }
        tab.open("/people", chart=False, timeout=180_000)
        first = tab.page.locator("table tbody tr").first.inner_text()
        assert f"CHF {max(spent.values()):,.0f}" in first, first
        tab.open("/people?q=T000", timeout=180_000)
        assert f"CHF {spent[0]:,.0f}" in tab.page.locator(".cards").first.inner_text()
        assert tab.errors == []
