"""Every table downloads as CSV (the raw values) and every chart as PNG (Plotly's modebar)."""

from __future__ import annotations

import csv
import io

import pytest
from dashboard_helpers import Served, Tab, read_table

pytestmark = pytest.mark.browser


def test_table_downloads_as_csv_with_raw_values(tab: Tab, dashboard: Served) -> None:
    tab.open("/retention")
    box = tab.page.locator(".table-box", has=tab.page.locator("h3", has_text="Churn by period"))
    with tab.page.expect_download() as info:
        box.locator("button.csv").click()
    download = info.value
    assert download.suggested_filename == "churn.csv"
    rows = list(csv.DictReader(io.StringIO(download.path().read_text(encoding="utf-8"))))
    shown = read_table(tab.page, "Churn by period")
    assert rows == shown
    # raw numbers, not the displayed percentages
    assert 0 <= float(rows[-1]["churn_rate"]) <= 1


def test_chart_downloads_as_png(tab: Tab) -> None:
    tab.open("/funnels")
    chart = tab.page.locator("div.chart").first
    chart.hover()
    button = chart.locator('.modebar-btn[data-title="Download plot as a PNG"]')
    with tab.page.expect_download() as info:
        button.click()
    download = info.value
    assert download.suggested_filename == "funnel.png"
    assert download.path().read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_segment_members_download(tab: Tab, dashboard: Served) -> None:
    from journeykit.analytics import parse_filter

    tab.open("/segments")
    link = tab.page.locator("a", has_text="Store visitors").first
    with tab.page.expect_download() as info:
        link.click()
    got = [
        r["person_id"]
        for r in csv.DictReader(io.StringIO(info.value.path().read_text(encoding="utf-8")))
    ]
    with dashboard.lock:
        want = (
            parse_filter('channel == "store"')
            .people(dashboard.ws)
            .order_by("person_id")
            .to_pandas()["person_id"]
            .tolist()
        )
    assert got == want
