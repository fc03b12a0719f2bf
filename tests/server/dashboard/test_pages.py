"""Every page loads on the demo workspace, draws its charts, logs no console error, fetches
nothing from outside 127.0.0.1, and fits a phone screen. Screenshots go to tests/_artifacts."""

from __future__ import annotations

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
#: Pages whose default view has no chart (a search box and a table).
NO_CHART = {"people"}


def _check_clean(tab: Tab, base: str) -> None:
    assert tab.errors == [], tab.errors
    outside = [u for u in tab.requests if not u.startswith(base) and not u.startswith("data:")]
    assert outside == [], f"requests outside the server: {outside}"


@pytest.mark.parametrize("name", list(PAGES))
def test_page_loads_with_charts_and_no_console_errors(
    name: str, tab: Tab, dashboard: Served, artifacts: Path
) -> None:
    response = tab.open(PAGES[name], chart=name not in NO_CHART)
    assert response is not None and response.status == 200
    page = tab.page
    assert page.locator("h1").count() == 1
    assert page.locator(".notice.error").count() == 0, page.locator(
        ".notice.error"
    ).first.inner_text()
    charts = page.locator("div.chart")
    # every chart on the page is drawn, not only the first
    page.wait_for_function(
        "() => [...document.querySelectorAll('div.chart')].every(d => d.dataset.rendered)",
        timeout=60_000,
    )
    if name not in NO_CHART:
        assert charts.count() >= 1
        assert page.locator("div.chart .main-svg").count() >= 1
    page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
    _check_clean(tab, dashboard.url)


@pytest.mark.parametrize("name", ["overview", "funnels", "voc", "people", "retention"])
def test_page_fits_a_phone(name: str, phone: Tab, dashboard: Served, artifacts: Path) -> None:
    phone.open(PAGES[name], chart=name not in NO_CHART)
    page = phone.page
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 1, f"the page is {overflow}px wider than the phone"
    page.screenshot(path=str(artifacts / f"{name}-phone.png"), full_page=True)
    _check_clean(phone, dashboard.url)


def test_person_page_screenshot(tab: Tab, dashboard: Served, artifacts: Path) -> None:
    person = dashboard.ws.store.scalar(
        "SELECT person_id FROM people ORDER BY n_events DESC, person_id LIMIT 1"
    )
    tab.open(f"/people?q={person}")
    assert tab.page.locator("#person").inner_text().endswith(person)
    tab.page.screenshot(path=str(artifacts / "person.png"), full_page=True)
    _check_clean(tab, dashboard.url)


def test_plotly_is_served_from_the_installed_package(tab: Tab, dashboard: Served) -> None:
    from plotly.offline import get_plotlyjs

    response = tab.page.request.get(dashboard.url + "/static/plotly.min.js")
    assert response.status == 200
    assert response.text() == get_plotlyjs()
    assert "immutable" in response.headers["cache-control"]


def test_filters_change_the_overview(tab: Tab, dashboard: Served) -> None:
    tab.open("/")
    whole_month = tab.page.locator("#kpis .card .value").first.inner_text()
    tab.open("/?start=2026-09-24&end=2026-09-30")
    one_week = tab.page.locator("#kpis .card .value").first.inner_text()
    assert int(one_week.replace(",", "")) < int(whole_month.replace(",", ""))
    assert "Compared with the 7 days before" in tab.page.content()


def test_flows_backwards_from_an_anchor(tab: Tab, dashboard: Served) -> None:
    from journeykit.analytics import flows

    tab.open("/flows?anchor=Order+Completed&direction=previous&steps=3")
    title = tab.page.locator("figure.chart-box h3").first.inner_text()
    with dashboard.lock:
        expected = flows(
            dashboard.ws,
            steps=3,
            anchor="Order Completed",
            direction="previous",
            collapse_repeats=True,
        )
    assert title == f"Flows before Order Completed ({expected.total:,} people)"
    # the Sankey ends at the anchor: every link's last step flows into it
    targets = tab.page.evaluate(
        "() => { const d = document.querySelector('div.chart').data[0];"
        " return d.node.label.filter(l => l.startsWith('Order Completed')).length; }"
    )
    assert targets >= 1
    _check_clean(tab, dashboard.url)
